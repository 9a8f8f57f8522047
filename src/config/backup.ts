// The scheduled backups' settings (issue 15): off unless BACKUP_INTERVAL is set. Parsed on their
// own, beside the main schema, so the feature's settings live in one small module.
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../units.js';
import { int, unit } from './fields.js';
import { ConfigError } from '../config.js';

export interface BackupConfig {
  /** 0: no scheduled backups. */
  intervalMs: number;
  dir: string;
  /** How many scheduled backups are kept; older ones are deleted. */
  keep: number;
}

const schema = z.object({
  BACKUP_INTERVAL: unit('0', parseDuration, 'a duration such as 24h (0 disables)'),
  BACKUP_DIR: z.string().optional(),
  BACKUP_KEEP: int(7, 1, 10_000),
});

/** BACKUP_DIR defaults to backups/ beside the SQLite file (or data/backups for PostgreSQL). */
export function loadBackupConfig(env: NodeJS.ProcessEnv, databasePath: string): BackupConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`));
  const e = parsed.data;
  return {
    intervalMs: e.BACKUP_INTERVAL,
    dir: resolve(e.BACKUP_DIR?.trim() || join(dirname(resolve(databasePath)), 'backups')),
    keep: e.BACKUP_KEEP,
  };
}
