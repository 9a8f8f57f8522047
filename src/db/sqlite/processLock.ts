// SQLite is one process's database: a second Spawner on the same file would run a second idle
// sweep and race the first one's container operations. The first process claims the file by
// holding an exclusive SQLite lock on a small companion file (`<database>.lock`) for as long as
// it lives. The lock is the operating system's, so it goes with the process however it ends
// (SIGKILL, a crash): no stale lock file to clean up, no heartbeat. The database itself stays
// readable by other processes (the backup command reads it while Spawner serves).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const processLockPath = (databasePath: string): string => `${resolve(databasePath)}.lock`;

export interface ProcessLock {
  release(): void;
}

/** Thrown when another process holds the claim; the message is the one line an operator reads. */
export class DatabaseInUseError extends Error {
  constructor(databasePath: string) {
    super(
      `another Spawner is running on the SQLite database ${databasePath}; ` +
        'SQLite serves one process only (use PostgreSQL, DATABASE_URL, for several replicas)',
    );
    this.name = 'DatabaseInUseError';
  }
}

/** Claims the database for this process, or throws DatabaseInUseError at once (no waiting). */
export function claimDatabaseFile(databasePath: string): ProcessLock {
  const path = processLockPath(databasePath);
  mkdirSync(dirname(path), { recursive: true });
  const lock = new Database(path, { timeout: 0 });
  try {
    // Exclusive locking mode: after the first write the lock is kept until the connection closes.
    lock.pragma('locking_mode = EXCLUSIVE');
    // A write takes the lock; the pid is for an operator who opens the file after a crash.
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL)');
    lock.transaction(() => {
      lock.exec('DELETE FROM holder');
      lock.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
    })();
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new DatabaseInUseError(databasePath);
    throw error;
  }
  return { release: () => lock.open && lock.close() };
}

/** True when a Spawner holds the claim on this database now (the restore command asks). */
export function databaseInUse(databasePath: string): boolean {
  try {
    claimDatabaseFile(databasePath).release();
    return false;
  } catch (error) {
    if (error instanceof DatabaseInUseError) return true;
    throw error;
  }
}
