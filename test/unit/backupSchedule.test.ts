// Scheduled backups on a real SQLite file in a temporary folder: each tick writes a checked copy,
// rotation keeps the newest BACKUP_KEEP of them and nothing else in the folder, a follower (not
// the leader) writes none, and a backup whose target folder cannot be written leaves no file.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openSqliteStores } from '../../src/db/sqlite/stores.js';
import { rotate, scheduleBackups } from '../../src/backup/schedule.js';
import { backupSqlite, BackupError, integrityOf, openForBackup } from '../../src/backup/sqlite.js';
import { loadBackupConfig } from '../../src/config/backup.js';
import { createLogger } from '../../src/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'spawner-backup-unit-'));
const logger = createLogger({ level: 'silent' });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('when the schedule runs on the leader, then it writes checked backups and keeps the newest BACKUP_KEEP; on a follower it writes none', async () => {
  const path = join(dir, 'live', 'spawner.db');
  const stores = openSqliteStores(path);
  await stores.users.create({ username: 'kept', email: 'kept@example.com', passwordHash: 'x' });
  const config = loadBackupConfig({ BACKUP_INTERVAL: '50ms', BACKUP_KEEP: '2' }, path);
  expect(config.dir).toBe(join(dir, 'live', 'backups'));
  mkdirSync(config.dir, { recursive: true });
  writeFileSync(join(config.dir, 'notes.txt'), 'not a backup');

  const follower = scheduleBackups({ ...config, dir: join(dir, 'follower') }, { path, url: undefined }, () => false, logger);
  const leader = scheduleBackups(config, { path, url: undefined }, () => true, logger);
  const backups = () => readdirSync(config.dir).filter((n) => n.endsWith('.db'));
  // Five ticks or more: the rotation has had to delete some.
  await new Promise((r) => setTimeout(r, 400));
  leader.stop();
  follower.stop();
  await stores.close();

  expect(backups()).toHaveLength(2);
  expect(readdirSync(config.dir)).toContain('notes.txt');
  for (const name of backups()) expect(integrityOf(join(config.dir, name))).toBe('ok');
  expect(() => readdirSync(join(dir, 'follower'))).toThrow();
});

it('when rotation runs, then only Spawner-named backups beyond the newest N go', () => {
  const folder = join(dir, 'rotate');
  mkdirSync(folder);
  for (const name of ['spawner-2026-01-01.db', 'spawner-2026-01-02.db', 'spawner-2026-01-03.dump', 'mine.db'])
    writeFileSync(join(folder, name), '');
  expect(rotate(folder, 1)).toEqual(['spawner-2026-01-01.db', 'spawner-2026-01-02.db']);
  expect(readdirSync(folder).sort()).toEqual(['mine.db', 'spawner-2026-01-03.dump']);
});

it('when the target folder does not exist, then the backup fails with one line and leaves nothing', async () => {
  const path = join(dir, 'other', 'spawner.db');
  const stores = openSqliteStores(path);
  await stores.close();
  const db = openForBackup(path);
  try {
    await expect(backupSqlite(db, join(dir, 'nowhere', 'copy.db'))).rejects.toThrow(BackupError);
  } finally {
    db.close();
  }
  expect(readdirSync(join(dir, 'other')).filter((n) => n.includes('tmp'))).toEqual([]);
});

it('when BACKUP_KEEP is not a number, then the settings are refused with the variable named', () => {
  expect(() => loadBackupConfig({ BACKUP_KEEP: 'many' }, 'data/spawner.db')).toThrow(/BACKUP_KEEP/);
});
