// Restores a SQLite backup into DATABASE_PATH, the documented procedure (README, "Backups"):
// Spawner stopped (the command refuses while one holds the file), the backup checked, copied next
// to the database and fsynced, the old database (with its WAL folded in) kept aside under a dated
// name, the copy renamed into place, and the migrations applied. Reconcile runs when Spawner
// starts next and re-links people's containers.
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { claimDatabaseFile, DatabaseInUseError } from '../db/sqlite/processLock.js';
import { openSqliteDatabase } from '../db/sqlite/database.js';
import { BackupError, integrityOf } from './sqlite.js';

export interface RestoreResult {
  /** Where the database that was there before now is (undefined: there was none). */
  keptAs: string | undefined;
}

/** Folds the WAL into the file and removes -wal/-shm, so the file alone is the whole database. */
function checkpoint(path: string): void {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}

export function restoreSqlite(backup: string, databasePath: string, now: Date = new Date()): RestoreResult {
  const source = resolve(backup);
  const target = resolve(databasePath);
  if (!existsSync(source)) throw new BackupError(`there is no backup at ${source}`);
  const integrity = integrityOf(source);
  if (integrity !== 'ok') throw new BackupError(`${source} is not a sound SQLite database (${integrity}); nothing was changed`);
  let claim;
  try {
    // Held to the end: a Spawner started meanwhile is refused instead of opening a half-swapped file.
    claim = claimDatabaseFile(target);
  } catch (error) {
    if (error instanceof DatabaseInUseError) throw new BackupError(`${error.message}; stop it before restoring`);
    throw error;
  }
  try {
    const temp = join(dirname(target), `.${basename(target)}.restore.tmp`);
    copyFileSync(source, temp);
    // The backup in WAL mode or not, the copy is a plain file now; nothing of the old WAL may apply to it.
    checkpoint(temp);
    let keptAs: string | undefined;
    if (existsSync(target)) {
      checkpoint(target);
      keptAs = `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
      renameSync(target, keptAs);
    }
    for (const leftover of [`${target}-wal`, `${target}-shm`]) rmSync(leftover, { force: true });
    renameSync(temp, target);
    // Migrations forward now, so a backup from an older Spawner is current before anyone logs in.
    openSqliteDatabase(target).close();
    return { keptAs };
  } finally {
    claim.release();
  }
}
