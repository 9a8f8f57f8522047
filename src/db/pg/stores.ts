// Every store on one PostgreSQL database, opened together: the users and shares repositories,
// sessions, rate limits and the health ping, all on one pool. `db` and `pool` stay visible for tests that look
// at the database directly; Spawner's own code only sees the Stores interface.
import { openPgDatabase, wrapPool, type PgDatabase, type PgOptions } from './database.js';
import { PgUserStore } from './users.js';
import { PgShareStore } from './shares.js';
import { PgSessionStore } from './sessionStore.js';
import { PgRateLimits } from './rateLimitStore.js';
import { PgAuditStore } from './audit.js';
import { PgInvitationStore } from './invitations.js';
import type pg from 'pg';
import type { Stores } from '../stores.js';

const PING_TIMEOUT_MS = 3000;

export interface PgStores extends Stores, Pick<PgDatabase, 'db' | 'pool'> {
  users: PgUserStore;
  shares: PgShareStore;
  sessions: PgSessionStore;
  rateLimits: PgRateLimits;
}

/** Connects and migrates; throws DatabaseOpenError (one line, no password) when that fails. */
export async function openPgStores(url: string, options: PgOptions & { purgeDue?: () => boolean } = {}): Promise<PgStores> {
  return storesOn(await openPgDatabase(url, options), options.purgeDue);
}

/** The stores on a pool whose database is migrated already (tests copy a migrated template). */
export function pgStoresOnPool(pool: pg.Pool): PgStores {
  return storesOn(wrapPool(pool));
}

/** `purgeDue`: whether this replica purges expired rows now (the leader only). */
function storesOn(database: PgDatabase, purgeDue?: () => boolean): PgStores {
  const { db, pool } = database;
  const sessions = new PgSessionStore(pool, { purgeDue });
  const rateLimits = new PgRateLimits(pool, { purgeDue });
  let open = true;
  return {
    db,
    pool,
    users: new PgUserStore(db),
    shares: new PgShareStore(db),
    audit: new PgAuditStore(db),
    invitations: new PgInvitationStore(db),
    sessions,
    rateLimits,
    health: {
      // Bounded: a server that accepts the connection and then hangs must not hold /health up.
      // (node-postgres honours query_timeout per query; its types list it only on the client.)
      ping: async () => {
        await pool.query({ text: 'SELECT 1', query_timeout: PING_TIMEOUT_MS } as pg.QueryConfig);
      },
    },
    isOpen: () => open,
    close: async () => {
      open = false;
      sessions.close();
      rateLimits.close();
      await database.close();
    },
  };
}
