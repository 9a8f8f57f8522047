// Opens Spawner's stores on the configured database: the one place that chooses the dialect.
// PostgreSQL when DATABASE_URL is set (through node-postgres), otherwise SQLite at DATABASE_PATH.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { openSqliteStores } from './sqlite/stores.js';
import { openPgStores } from './pg/stores.js';
import type { Stores } from './stores.js';

/** Throws DatabaseOpenError with one line for the operator when the database cannot be used. */
export async function openStores(
  config: Pick<Config, 'databasePath' | 'databaseUrl'>,
  logger?: Logger,
  /** PostgreSQL: whether this replica runs the purges now (the leader's job). */
  purgeDue?: () => boolean,
): Promise<Stores> {
  if (config.databaseUrl) {
    return openPgStores(config.databaseUrl, {
      purgeDue,
      onIdleError: (error) => logger?.warn({ err: error }, 'a pooled PostgreSQL connection broke while idle; the pool replaces it'),
    });
  }
  return openSqliteStores(config.databasePath);
}
