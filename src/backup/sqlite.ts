// A consistent online copy of the SQLite database while Spawner serves and writes: better-sqlite3's
// online backup API into a temporary file next to the target, PRAGMA integrity_check on the copy,
// then a rename into place, so `<file>` is either a whole, checked backup or not there at all.
// The restore swaps a checked copy in with the same care (see restoreSqlite).
import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export class BackupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackupError';
  }
}

/** 'ok', or the first problem integrity_check reports (a file that is no database says so too). */
export function integrityOf(path: string): string {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const rows = db.prepare('PRAGMA integrity_check').pluck().all() as string[];
    return rows.length === 1 && rows[0] === 'ok' ? 'ok' : (rows[0] ?? 'integrity_check returned nothing');
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    db?.close();
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies `source` (an open connection: Spawner's own in the scheduled backup, so its writes never
 * restart the copy) to `target`. Resolves to the number of pages copied.
 */
export async function backupSqlite(source: Database.Database, target: string): Promise<number> {
  const final = resolve(target);
  const temp = join(dirname(final), `.${basename(final)}.${process.pid}.tmp`);
  rmSync(temp, { force: true });
  try {
    // After the first step of 100 pages, the rest in one step: a write by another connection
    // between steps restarts the copy, and under a steady load it might never finish otherwise.
    const { totalPages } = await source.backup(temp, { progress: ({ totalPages: pages }) => Math.max(pages, 100) });
    const integrity = integrityOf(temp);
    if (integrity !== 'ok') throw new BackupError(`the copy failed its integrity check (${integrity}); nothing was written to ${final}`);
    fsyncFile(temp);
    renameSync(temp, final);
    return totalPages;
  } catch (error) {
    rmSync(temp, { force: true });
    if (error instanceof BackupError) throw error;
    throw new BackupError(`cannot write the backup to ${final}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** Opens the live database for a backup from another process: read-only, never migrated. */
export function openForBackup(path: string): Database.Database {
  if (!existsSync(path)) throw new BackupError(`there is no database at ${resolve(path)}`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}
