// The PostgreSQL stores on a real migrated database, where they differ from SQLite in how they
// work: concurrent writers on several connections (replicas), the 23505 mapping, bigints coming
// back as numbers, batch updates in one statement, and the rate-limit windows with a moved clock.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Options, Store } from 'express-rate-limit';
import type session from 'express-session';
import type pg from 'pg';
import { createPool } from '../../src/db/pg/database.js';
import { pgStoresOnPool, type PgStores } from '../../src/db/pg/stores.js';
import { PgRateLimits } from '../../src/db/pg/rateLimitStore.js';
import { PgSessionStore } from '../../src/db/pg/sessionStore.js';
import { DuplicateUserError } from '../../src/db/stores.js';
import { createTestDatabase, dropTestDatabase, testDatabaseUrl } from '../helpers/postgres.js';

const runId = inject('runId');
const name = `spawner_t_${runId}_stores_${randomBytes(3).toString('hex')}`;
/** Two replicas: two pools on one database. */
let a: PgStores;
let b: PgStores;
let clock: number;

beforeAll(() => {
  createTestDatabase(runId, name);
  a = pgStoresOnPool(createPool(testDatabaseUrl(name), { poolSize: 5 }));
  b = pgStoresOnPool(createPool(testDatabaseUrl(name), { poolSize: 5 }));
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await dropTestDatabase(name);
});

beforeEach(async () => {
  clock = 1_700_000_000_000;
  await a.pool.query('TRUNCATE users, shares, sessions, rate_limits RESTART IDENTITY');
});

function limiter(pool: pg.Pool, prefix: string, windowMs = 60_000): { limits: PgRateLimits; store: Store } {
  const limits = new PgRateLimits(pool, { now: () => clock });
  const store = limits.storeFor(prefix);
  void store.init?.({ windowMs } as Options);
  return { limits, store };
}

describe('PgUserStore', () => {
  it('when a name or address is taken in another case, then create throws DuplicateUserError naming the field', async () => {
    await a.users.create({ username: 'alice', email: 'Alice@Example.com', passwordHash: 'x' });
    const byName = await b.users.create({ username: 'ALICE', email: 'other@example.com', passwordHash: 'x' }).catch((e: unknown) => e);
    const byMail = await b.users.create({ username: 'bob', email: 'alice@example.COM', passwordHash: 'x' }).catch((e: unknown) => e);
    expect(byName).toBeInstanceOf(DuplicateUserError);
    expect((byName as DuplicateUserError).field).toBe('username');
    expect(byMail).toBeInstanceOf(DuplicateUserError);
    expect((byMail as DuplicateUserError).field).toBe('email');
    expect(await a.users.count()).toBe(1);
  });

  it('when two replicas sign the same name up at once, then exactly one account results', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).users.create({ username: 'racer', email: `racer${i}@example.com`, passwordHash: 'x' }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DuplicateUserError);
  });

  it('when activity and containers are written in a batch, then every row gets its own values and dates come back as Dates', async () => {
    const people = [];
    for (let i = 0; i < 3; i += 1) people.push(await a.users.create({ username: `p${i}`, email: `p${i}@example.com`, passwordHash: 'x' }));
    await a.users.recordActivity(people.map((p, i) => ({ id: p.id, at: new Date(clock + i * 1000 + 7) })));
    await a.users.correctContainers([
      { id: people[0]!.id, container: { id: 'c0', name: 'n0' } },
      { id: people[2]!.id, container: { id: null, name: null } },
    ]);
    await a.users.setContainer(people[1]!.id, { id: 'c1', name: 'n1' });
    const all = await b.users.all();
    expect(all.map((u) => [u.username, u.lastActivity?.getTime(), u.containerId, u.containerName])).toEqual([
      ['p0', clock + 7, 'c0', 'n0'],
      ['p1', clock + 1007, 'c1', 'n1'],
      ['p2', clock + 2007, null, null],
    ]);
    expect(all[0]!.createdAt).toBeInstanceOf(Date);
    expect(await b.users.findByLogin('P1@EXAMPLE.COM')).toMatchObject({ username: 'p1' });
    await b.users.delete(people[0]!.id);
    expect(await a.users.findById(people[0]!.id)).toBeUndefined();
    expect(await a.users.count()).toBe(2);
  });
});

describe('text PostgreSQL refuses', () => {
  it('when a login or a limiter key contains a NUL character, then lookups find nobody and the key is counted on its own', async () => {
    await a.users.create({ username: 'nul', email: 'nul@example.com', passwordHash: 'x' });
    expect(await a.users.findByLogin('nul\u0000')).toBeUndefined();
    expect(await a.users.findByLogin('nul@example.com\u0000')).toBeUndefined();
    const { limits, store } = limiter(a.pool, 'login-account:');
    expect(await store.increment('name:\u0000aaa')).toMatchObject({ totalHits: 1 });
    expect(await store.increment('name:\u0000aaa')).toMatchObject({ totalHits: 2 });
    // Lossless: the escaped forms of two different keys never meet.
    expect(await store.increment('name:\\0aaa')).toMatchObject({ totalHits: 1 });
    expect(await store.get?.('name:\u0000aaa')).toMatchObject({ totalHits: 2 });
    limits.close();
  });
});

describe('PgShareStore and the epochs', () => {
  it('when a service is shared twice, then the second is a no-op; when either account goes, then the share goes with it', async () => {
    const owner = await a.users.create({ username: 'owner', email: 'owner@example.com', passwordHash: 'x' });
    const guest = await a.users.create({ username: 'guest', email: 'guest@example.com', passwordHash: 'x' });
    expect(owner).toMatchObject({ serviceAccess: 'owner', isAdmin: false, accessEpoch: 0, serviceEpoch: 0 });
    expect(await a.shares.add(owner.id, guest.id)).toBe(true);
    expect(await b.shares.add(owner.id, guest.id)).toBe(false);
    expect(await b.shares.all()).toEqual([{ ownerId: owner.id, userId: guest.id }]);
    expect(await a.users.bumpAccessEpoch(guest.id)).toBe(1);
    expect(await b.users.bumpServiceEpoch(owner.id)).toBe(1);
    await a.users.setServiceAccess(owner.id, 'public');
    expect(await b.users.findById(owner.id)).toMatchObject({ serviceAccess: 'public', serviceEpoch: 1 });
    await a.users.delete(guest.id);
    expect(await a.shares.all()).toEqual([]);
    expect(await a.shares.remove(owner.id, guest.id)).toBe(false);
  });
});

describe('PgRateLimits', () => {
  it('when two replicas count the same key at once, then every hit is counted once (no lost update)', async () => {
    const one = limiter(a.pool, 'login-ip:');
    const two = limiter(b.pool, 'login-ip:');
    const hits = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? one : two).store.increment('203.0.113.7')));
    expect(hits.map((h) => h.totalHits).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await one.store.get?.('203.0.113.7')).toEqual({ totalHits: 40, resetTime: new Date(clock + 60_000) });
    one.limits.close();
    two.limits.close();
  });

  it('when the window ends, then the key counts from 1 again; decrement never goes below zero', async () => {
    const { limits, store } = limiter(a.pool, 'login-account:');
    await store.increment('alice');
    expect(await store.increment('alice')).toEqual({ totalHits: 2, resetTime: new Date(clock + 60_000) });
    clock += 60_000;
    expect(await store.get?.('alice')).toBeUndefined();
    expect(await store.increment('alice')).toEqual({ totalHits: 1, resetTime: new Date(clock + 60_000) });
    await store.decrement('alice');
    await store.decrement('alice');
    expect(await store.get?.('alice')).toEqual({ totalHits: 0, resetTime: new Date(clock + 60_000) });
    limits.close();
  });

  it('when one limiter is reset, then only its own keys go, even with LIKE wildcards in the prefix; purge drops ended windows', async () => {
    const odd = limiter(a.pool, 'a_%:');
    const other = limiter(a.pool, 'ab%x:');
    await odd.store.increment('k');
    await other.store.increment('k');
    await odd.store.resetAll?.();
    expect(await odd.store.get?.('k')).toBeUndefined();
    expect(await other.store.get?.('k')).toMatchObject({ totalHits: 1 });
    clock += 60_000;
    expect(await other.limits.purgeExpired()).toBe(1);
    odd.limits.close();
    other.limits.close();
  });
});

describe('PgSessionStore', () => {
  const call = <T>(fn: (cb: (error: unknown, value?: T) => void) => void) =>
    new Promise<T | undefined>((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))));
  const data = (maxAge: number) => ({ cookie: { originalMaxAge: maxAge, maxAge } }) as unknown as session.SessionData;

  it('when a session is set on one replica, then the other reads it until it expires; touch extends it, purge removes it', async () => {
    const sa = new PgSessionStore(a.pool, { now: () => clock });
    const sb = new PgSessionStore(b.pool, { now: () => clock });
    await call((cb) => sa.set('sid-1', data(1000), cb));
    expect(await call((cb) => sb.get('sid-1', cb))).toMatchObject({ cookie: { maxAge: 1000 } });
    expect(await call<number>((cb) => sb.length(cb))).toBe(1);
    clock += 500;
    await call((cb) => sb.touch('sid-1', data(1000), cb));
    clock += 900;
    expect(await call((cb) => sa.get('sid-1', cb))).not.toBeNull();
    clock += 200;
    expect(await call((cb) => sa.get('sid-1', cb))).toBeNull();
    expect(await sa.purgeExpired()).toBe(1);
    await call((cb) => sa.set('sid-2', data(1000), cb));
    await call((cb) => sb.destroy('sid-2', cb));
    expect(await call((cb) => sa.get('sid-2', cb))).toBeNull();
    sa.close();
    sb.close();
  });

  it('when the database fails, then the callback gets the error (express-session answers 500, nothing hangs)', async () => {
    const pool = createPool(testDatabaseUrl(name), { poolSize: 1 });
    const broken = new PgSessionStore(pool);
    await pool.end();
    await expect(call((cb) => broken.get('x', cb))).rejects.toThrow();
    broken.close();
  });
});
