// Scheduled backups (BACKUP_INTERVAL, BACKUP_DIR, BACKUP_KEEP): the leader writes one every
// interval into BACKUP_DIR, named by time so they sort, and deletes the oldest beyond BACKUP_KEEP.
// A failed backup is logged and the next one tries again; old backups are only deleted after a
// new one succeeded, so a failing disk never leaves fewer than there were.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import type { BackupConfig } from '../config/backup.js';
import { backupSqlite, openForBackup } from './sqlite.js';
import { pgDump } from './pg.js';

const PREFIX = 'spawner-';

export const backupFileName = (at: Date, postgres: boolean): string =>
  `${PREFIX}${at.toISOString().replace(/[:.]/g, '-')}${postgres ? '.dump' : '.db'}`;

/** Deletes the oldest scheduled backups beyond `keep`; resolves to what was deleted. */
export function rotate(dir: string, keep: number): string[] {
  const ours = readdirSync(dir)
    .filter((name) => name.startsWith(PREFIX) && (name.endsWith('.db') || name.endsWith('.dump')))
    .sort();
  const old = ours.slice(0, Math.max(0, ours.length - keep));
  for (const name of old) rmSync(join(dir, name), { force: true });
  return old;
}

export function scheduleBackups(
  config: BackupConfig,
  database: { path: string; url: string | undefined },
  isLeader: () => boolean,
  logger: Logger,
): { stop(): void } {
  if (config.intervalMs <= 0) return { stop: () => undefined };
  let running = false;
  const once = async () => {
    if (running || !isLeader()) return;
    running = true;
    const file = join(config.dir, backupFileName(new Date(), Boolean(database.url)));
    try {
      mkdirSync(config.dir, { recursive: true });
      if (database.url) {
        await pgDump(database.url, file);
      } else {
        const db = openForBackup(database.path);
        try {
          await backupSqlite(db, file);
        } finally {
          db.close();
        }
      }
      const deleted = rotate(config.dir, config.keep);
      logger.info({ file, deleted: deleted.length }, 'database backed up');
    } catch (error) {
      logger.error({ err: error, file }, 'scheduled backup failed; the next one tries again');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void once(), config.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
