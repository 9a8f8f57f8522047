// Opens the SQLite file, sets the pragmas Spawner relies on (the busy timeout among them) and
// applies the committed migrations in drizzle/.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { projectRoot } from '../../paths.js';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { DatabaseOpenError } from '../stores.js';

/** Drizzle over better-sqlite3; `$client` is the raw connection, for the few hot statements. */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export interface SqliteDatabase {
  db: Db;
  sqlite: Database.Database;
  close(): void;
}

export const migrationsFolder = (): string => join(projectRoot(), 'drizzle');

/** How long start-up (and every later write) waits for another process's lock before giving up. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** SQLite's terse errors in words an operator can act on. */
function explain(cause: unknown, busyTimeoutMs: number): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  switch ((cause as { code?: unknown })?.code) {
    case 'SQLITE_NOTADB':
      return `${message} (the file is damaged or not an SQLite database; restore it from a backup)`;
    case 'SQLITE_CORRUPT':
      return `${message} (the file is damaged; restore it from a backup)`;
    case 'SQLITE_BUSY':
      return `${message} (another process holds a lock on it, perhaps a second Spawner; gave up after ${busyTimeoutMs / 1000} s)`;
    case 'SQLITE_READONLY':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
      return `${message} (check that the file and its folder are writable by the user Spawner runs as)`;
    default:
      return message;
  }
}

/** quick_check's report (one row per problem, the first also naming the database) in one sentence. */
function damageReport(rows: unknown[]): string {
  const problems = rows
    .flatMap((row) => String(row).split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('***'));
  const more = problems.length > 1 ? ` and ${problems.length - 1} more problem(s)` : '';
  return `the file is damaged (integrity check: ${problems[0] ?? 'failed'}${more}); restore it from a backup`;
}

export function openSqliteDatabase(path: string, options: { busyTimeoutMs?: number } = {}): SqliteDatabase {
  let sqlite: Database.Database | undefined;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  try {
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    sqlite = new Database(path);
    sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    // A damaged file must stop start-up here, before anything writes to it.
    const check = sqlite.prepare('PRAGMA quick_check').pluck().all();
    if (check.length !== 1 || check[0] !== 'ok') throw new Error(damageReport(check));
    // In WAL mode another process's write lock does not stop reads, so a locked file would open
    // fine and fail on the first signup: take (and give back) the write lock now. It waits at
    // most busy_timeout, and it also finds a file Spawner may not write to.
    sqlite.exec('BEGIN IMMEDIATE');
    sqlite.exec('ROLLBACK');
    const db = drizzle(sqlite, { schema });
    migrate(db, { migrationsFolder: migrationsFolder() });
    const opened = sqlite;
    return { db, sqlite: opened, close: () => opened.open && opened.close() };
  } catch (error) {
    if (sqlite?.open) sqlite.close();
    throw new DatabaseOpenError(path, explain(error, busyTimeoutMs));
  }
}
