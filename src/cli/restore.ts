// `spawner restore <file>`: puts a SQLite backup in place of DATABASE_PATH (Spawner stopped; see
// src/backup/restore.ts and README). On PostgreSQL it says how pg_restore does it instead.
import { loadConfig, ConfigError } from '../config.js';
import { redactDatabaseUrl } from '../db/pg/url.js';
import { BackupError } from '../backup/sqlite.js';
import { restoreSqlite } from '../backup/restore.js';
import type { CliIo } from './io.js';

export async function runRestore(args: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [file, ...rest] = args;
  if (!file || rest.length > 0 || file.startsWith('-')) {
    io.stderr.write('usage: spawner restore <file>\n');
    return 2;
  }
  try {
    const config = loadConfig(env);
    if (config.databaseUrl) {
      io.stderr.write(
        `spawner restore: on PostgreSQL, stop Spawner and run: pg_restore --clean --if-exists --no-owner --single-transaction -d '${redactDatabaseUrl(config.databaseUrl)}' ${file}\n`,
      );
      return 1;
    }
    const { keptAs } = restoreSqlite(file, config.databasePath);
    io.stdout.write(
      `restored ${file} into ${config.databasePath}${keptAs ? `; the previous database is kept as ${keptAs}` : ''}; start Spawner now (it reconciles the containers)\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof BackupError) {
      io.stderr.write(`spawner restore: ${error.message.replace(/\s*\n\s*/g, '; ')}\n`);
      return 1;
    }
    throw error;
  }
}
