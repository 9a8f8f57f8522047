// Every store on one SQLite file, opened together: the users and shares repositories, sessions, rate limits
// and the health ping. `db` and `sqlite` stay visible for tests and the bench that look at the
// file directly; Spawner's own code only sees the Stores interface.
import { openSqliteDatabase, type SqliteDatabase } from './database.js';
import { SqliteUserStore } from './users.js';
import { SqliteShareStore } from './shares.js';
import { SqliteSessionStore } from './sessionStore.js';
import { SqliteRateLimits } from './rateLimitStore.js';
import { SqliteAuditStore } from './audit.js';
import { SqliteInvitationStore } from './invitations.js';
import type { Stores } from '../stores.js';

export interface SqliteStores extends Stores, Pick<SqliteDatabase, 'db' | 'sqlite'> {
  users: SqliteUserStore;
  shares: SqliteShareStore;
  sessions: SqliteSessionStore;
  rateLimits: SqliteRateLimits;
}

/** Throws DatabaseOpenError when the file is damaged, locked or not writable. */
export function openSqliteStores(path: string, options: { busyTimeoutMs?: number } = {}): SqliteStores {
  const database = openSqliteDatabase(path, options);
  const { db, sqlite } = database;
  const sessions = new SqliteSessionStore(sqlite);
  const rateLimits = new SqliteRateLimits(sqlite);
  return {
    db,
    sqlite,
    users: new SqliteUserStore(db),
    shares: new SqliteShareStore(db),
    audit: new SqliteAuditStore(db),
    invitations: new SqliteInvitationStore(db),
    sessions,
    rateLimits,
    health: {
      ping: async () => {
        sqlite.prepare('SELECT 1').get();
      },
    },
    isOpen: () => sqlite.open,
    close: async () => {
      sessions.close();
      rateLimits.close();
      database.close();
    },
  };
}
