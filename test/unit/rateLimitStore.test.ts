// The SQLite store behind the login and signup limits, on a real migrated database with a clock
// the test moves: counting, windows that end, decrements, prefixes kept apart, purging.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Options, Store } from 'express-rate-limit';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/db/sqlite/database.js';
import { SqliteRateLimits } from '../../src/db/sqlite/rateLimitStore.js';

let dir: string;
let database: SqliteDatabase;
let clock: number;
let limits: SqliteRateLimits;

function store(prefix: string, windowMs = 60_000): Store {
  const s = limits.storeFor(prefix);
  void s.init?.({ windowMs } as Options);
  return s;
}

const rows = () => database.sqlite.prepare('SELECT key, hits, reset_at AS resetAt FROM rate_limits ORDER BY key').all();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spawner-rl-'));
  database = openSqliteDatabase(join(dir, 'spawner.db'));
  clock = 1_000_000;
  limits = new SqliteRateLimits(database.sqlite, { now: () => clock });
});

afterEach(() => {
  limits.close();
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteRateLimits', () => {
  it('when a key is hit, then hits count up within the window and the reset time stays put', async () => {
    const s = store('login-ip:');
    expect(await s.increment('1.2.3.4')).toEqual({ totalHits: 1, resetTime: new Date(1_060_000) });
    clock += 10_000;
    expect(await s.increment('1.2.3.4')).toEqual({ totalHits: 2, resetTime: new Date(1_060_000) });
    expect(await s.get?.('1.2.3.4')).toEqual({ totalHits: 2, resetTime: new Date(1_060_000) });
    expect(rows()).toEqual([{ key: 'login-ip:1.2.3.4', hits: 2, resetAt: 1_060_000 }]);
  });

  it('when the window has ended, then the key counts from 1 again with a new window', async () => {
    const s = store('login-ip:');
    await s.increment('k');
    await s.increment('k');
    clock += 60_000;
    expect(await s.get?.('k')).toBeUndefined();
    expect(await s.increment('k')).toEqual({ totalHits: 1, resetTime: new Date(clock + 60_000) });
  });

  it('when a request is forgiven, then decrement lowers the count but never below zero', async () => {
    const s = store('login-account:');
    await s.increment('alice');
    await s.decrement('alice');
    await s.decrement('alice');
    expect((await s.get?.('alice'))?.totalHits).toBe(0);
    expect((await s.increment('alice')).totalHits).toBe(1);
  });

  it('when two limiters count the same key, then their prefixes keep them apart, also for resets', async () => {
    const ip = store('login-ip:');
    const signup = store('signup-ip:', 3_600_000);
    await ip.increment('1.1.1.1');
    await ip.increment('1.1.1.1');
    await signup.increment('1.1.1.1');
    expect((await ip.get?.('1.1.1.1'))?.totalHits).toBe(2);
    expect((await signup.get?.('1.1.1.1'))?.resetTime).toEqual(new Date(clock + 3_600_000));
    await ip.resetAll?.();
    expect(await ip.get?.('1.1.1.1')).toBeUndefined();
    expect((await signup.get?.('1.1.1.1'))?.totalHits).toBe(1);
    await signup.resetKey('1.1.1.1');
    expect(rows()).toEqual([]);
  });

  it('when keys have expired, then purging deletes exactly those rows', async () => {
    const short = store('a:', 1_000);
    const long = store('b:', 60_000);
    await short.increment('x');
    await long.increment('x');
    clock += 1_000;
    expect(await limits.purgeExpired()).toBe(1);
    expect(rows()).toEqual([{ key: 'b:x', hits: 1, resetAt: 1_060_000 }]);
  });

  it('when a second store instance opens the same file (a restart), then it sees the counts', async () => {
    await store('login-ip:').increment('9.9.9.9');
    const again = new SqliteRateLimits(database.sqlite, { now: () => clock });
    const s = again.storeFor('login-ip:');
    void s.init?.({ windowMs: 60_000 } as Options);
    expect((await s.increment('9.9.9.9')).totalHits).toBe(2);
    again.close();
  });
});
