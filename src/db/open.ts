// Opens Spawner's stores on the configured database: the one place that chooses the dialect
// (SQLite at DATABASE_PATH today; PostgreSQL at DATABASE_URL will be chosen here too).
import type { Config } from '../config.js';
import { openSqliteStores } from './sqlite/stores.js';
import type { Stores } from './stores.js';

/** Throws DatabaseOpenError with one line for the operator when the database cannot be used. */
export async function openStores(config: Pick<Config, 'databasePath'>): Promise<Stores> {
  return openSqliteStores(config.databasePath);
}
