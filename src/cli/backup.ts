// `spawner backup <file>`: a consistent online copy of the database while Spawner keeps serving.
// SQLite: the online backup API, checked, renamed into place (src/backup/sqlite.ts). PostgreSQL:
// pg_dump -Fc when it is installed, else one line saying what to run.
import { loadConfig, ConfigError } from '../config.js';
import { BackupError, backupSqlite, openForBackup } from '../backup/sqlite.js';
import { pgDump } from '../backup/pg.js';
import type { CliIo } from './io.js';

export async function runBackup(args: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [file, ...rest] = args;
  if (!file || rest.length > 0 || file.startsWith('-')) {
    io.stderr.write('usage: spawner backup <file>\n');
    return 2;
  }
  try {
    const config = loadConfig(env);
    if (config.databaseUrl) {
      await pgDump(config.databaseUrl, file);
      io.stdout.write(`backed up the PostgreSQL database to ${file} (pg_dump -Fc; restore with pg_restore)\n`);
      return 0;
    }
    const db = openForBackup(config.databasePath);
    try {
      const pages = await backupSqlite(db, file);
      io.stdout.write(`backed up ${config.databasePath} to ${file} (${pages} pages, integrity ok)\n`);
    } finally {
      db.close();
    }
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof BackupError) {
      io.stderr.write(`spawner backup: ${error.message.replace(/\s*\n\s*/g, '; ')}\n`);
      return 1;
    }
    throw error;
  }
}
