// Connects to PostgreSQL at DATABASE_URL through a node-postgres pool and applies the committed
// migrations in drizzle-pg/, under an advisory lock on a dedicated connection so that replicas
// starting together migrate once (drizzle's migrate() alone races: drizzle-orm#874).
import { join } from 'node:path';
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { projectRoot } from '../../paths.js';
import { DatabaseOpenError } from '../stores.js';
import * as schema from './schema.js';
import { LOCK_KEYS, withSessionLock } from './locks.js';
import { redactDatabaseUrl } from './url.js';

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface PgDatabase {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface PgOptions {
  /** Connections the pool opens at most (each replica has its own pool). */
  poolSize?: number;
  /** How long a start-up waits for a peer that is migrating. */
  migrationWaitMs?: number;
  /** Told about a pooled connection that broke while idle (the pool replaces it). */
  onIdleError?: (error: Error) => void;
}

export const pgMigrationsFolder = (): string => join(projectRoot(), 'drizzle-pg');

const CONNECT_TIMEOUT_MS = 10_000;

/** node-postgres' and the server's errors in words an operator can act on. */
function explain(error: unknown): string {
  // drizzle wraps the driver's error ("Failed query: …"); the server's own words are on the cause.
  let cause = error;
  for (
    let depth = 0;
    depth < 3 && typeof (cause as { code?: unknown })?.code !== 'string' && (cause as { cause?: unknown })?.cause;
    depth += 1
  ) {
    cause = (cause as { cause: unknown }).cause;
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  switch ((cause as { code?: unknown })?.code) {
    case 'ECONNREFUSED':
      return `${message} (nothing listens there: is PostgreSQL running, and are host and port right?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${message} (the host name does not resolve)`;
    case '28P01':
    case '28000':
      return `${message} (check the user and password in DATABASE_URL, and pg_hba.conf)`;
    case '3D000':
      return `${message} (create the database first, e.g. createdb, or fix its name in DATABASE_URL)`;
    case '42501':
      return `${message} (the user may not create tables in this database; grant it, or use the owner)`;
    case '55P03':
      return `${message} (another Spawner has been migrating for too long; see its log)`;
    default:
      return message;
  }
}

/** A pool on `url`, migrated. Throws DatabaseOpenError (one line, no password) when that fails. */
export async function openPgDatabase(url: string, options: PgOptions = {}): Promise<PgDatabase> {
  const pool = createPool(url, options);
  try {
    await migrateOnce(url, options.migrationWaitMs ?? 120_000);
    // The first query proves the pool itself can connect, not only the dedicated connection.
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DatabaseOpenError(redactDatabaseUrl(url), explain(error));
  }
  return wrapPool(pool);
}

/** A pool that is not connected yet (node-postgres connects on the first query). */
export function createPool(url: string, options: Pick<PgOptions, 'poolSize' | 'onIdleError'> = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
  });
  // Without a listener, an idle connection that the server drops would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}

export function wrapPool(pool: pg.Pool): PgDatabase {
  const db = drizzle(pool, { schema });
  let closed = false;
  return {
    db,
    pool,
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** drizzle's migrate() on a connection of its own that holds the migrations lock meanwhile. */
export async function migrateOnce(url: string, waitMs: number): Promise<void> {
  await withSessionLock(
    { connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS },
    LOCK_KEYS.migrations,
    waitMs,
    async (client) => {
      // The one who waited finds the journal up to date and applies nothing.
      await migrate(drizzle(client), { migrationsFolder: pgMigrationsFolder() });
    },
  );
}
