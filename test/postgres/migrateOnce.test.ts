// Replicas that start together on one PostgreSQL database: the migrations run once, under the
// advisory lock, and a start-up waits while another holds it. Also the one-line errors a bad
// DATABASE_URL gives, without its password.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openPgStores } from '../../src/db/pg/stores.js';
import { LOCK_KEYS } from '../../src/db/pg/locks.js';
import { DatabaseOpenError } from '../../src/db/stores.js';
import { adminQuery, dropTestDatabase, testDatabaseUrl } from '../helpers/postgres.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/paths.js';

const made: string[] = [];
afterEach(async () => {
  for (const name of made.splice(0)) await dropTestDatabase(name);
});

async function emptyDatabase(): Promise<string> {
  const name = `spawner_lock_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  made.push(name);
  return name;
}

const journalEntries = (): number =>
  (JSON.parse(readFileSync(join(projectRoot(), 'drizzle-pg/meta/_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

describe('migrations on PostgreSQL', () => {
  it('when five replicas start at once on an empty database, then all open and each migration is applied once', async () => {
    const url = testDatabaseUrl(await emptyDatabase());
    const stores = await Promise.all(Array.from({ length: 5 }, () => openPgStores(url, { poolSize: 1 })));
    try {
      const { rows } = await stores[0]!.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      expect(rows[0]!.n).toBe(journalEntries());
      await stores[1]!.users.create({ username: 'first', email: 'first@example.com', passwordHash: 'x' });
      expect(await stores[4]!.users.count()).toBe(1);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('when another connection holds the migrations lock, then a start-up waits for it and opens once it is released', async () => {
    const url = testDatabaseUrl(await emptyDatabase());
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [LOCK_KEYS.migrations]);
      let settled = false;
      const opening = openPgStores(url, { poolSize: 1 }).finally(() => {
        settled = true;
      });
      // The event to wait for: the start-up's connection queued on the lock (bounded poll).
      const deadline = Date.now() + 10_000;
      let waiting = 0;
      while (waiting === 0 && Date.now() < deadline) {
        const { rows } = await holder.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1",
          [LOCK_KEYS.migrations],
        );
        waiting = rows[0]!.n;
        if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(waiting).toBe(1);
      expect(settled).toBe(false);
      const { rows } = await holder.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'users'");
      expect(rows[0]!.n).toBe(0);
      await holder.query('SELECT pg_advisory_unlock($1)', [LOCK_KEYS.migrations]);
      const stores = await opening;
      expect(await stores.users.count()).toBe(0);
      await stores.close();
    } finally {
      await holder.end();
    }
  });

  it('when the lock is held longer than the start-up will wait, then it fails with one line naming the database, no password', async () => {
    const url = testDatabaseUrl(await emptyDatabase());
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [LOCK_KEYS.migrations]);
      const error = await openPgStores(url, { migrationWaitMs: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseOpenError);
      expect((error as Error).message).toMatch(/another Spawner has been migrating for too long/);
      expect((error as Error).message).not.toContain(new URL(url).password);
      expect((error as Error).message).not.toContain('\n');
    } finally {
      await holder.end();
    }
  });

  it('when the password is wrong or nothing listens, then the error is one readable line without the password', async () => {
    const wrong = new URL(testDatabaseUrl());
    wrong.password = 'not-the-password-4711';
    const refused = new URL(testDatabaseUrl());
    refused.port = '1';
    const [badPassword, noServer] = await Promise.all([
      openPgStores(wrong.toString()).catch((e: unknown) => e),
      openPgStores(refused.toString()).catch((e: unknown) => e),
    ]);
    expect(badPassword).toBeInstanceOf(DatabaseOpenError);
    expect((badPassword as Error).message).toMatch(/password authentication failed.*check the user and password in DATABASE_URL/);
    expect((badPassword as Error).message).not.toContain('not-the-password-4711');
    expect(noServer).toBeInstanceOf(DatabaseOpenError);
    expect((noServer as Error).message).toMatch(/is PostgreSQL running/);
    expect((noServer as Error).message).not.toContain(refused.password);
  });
});
