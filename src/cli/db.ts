// `spawner db copy-sqlite-to-postgres`: copies the SQLite database at DATABASE_PATH into the
// empty PostgreSQL database at DATABASE_URL (README, "Moving from SQLite to PostgreSQL").
import { loadConfig, ConfigError } from '../config.js';
import { CopyError, copySqliteToPostgres } from '../db/copy.js';
import { DatabaseOpenError } from '../db/stores.js';
import { redactDatabaseUrl } from '../db/pg/url.js';
import type { CliIo } from './io.js';

const USAGE = 'usage: spawner db copy-sqlite-to-postgres   (from DATABASE_PATH into the empty database at DATABASE_URL)\n';

export async function runDb(args: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (args.length !== 1 || args[0] !== 'copy-sqlite-to-postgres') {
    io.stderr.write(USAGE);
    return 2;
  }
  try {
    const config = loadConfig(env);
    if (!config.databaseUrl) {
      io.stderr.write('spawner db: set DATABASE_URL to the (empty) PostgreSQL database to copy into\n');
      return 1;
    }
    const counts = await copySqliteToPostgres(config.databasePath, config.databaseUrl);
    const summary = Object.entries(counts)
      .map(([table, n]) => `${table} ${n}`)
      .join(', ');
    io.stdout.write(`copied ${config.databasePath} into ${redactDatabaseUrl(config.databaseUrl)}: ${summary}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof CopyError || error instanceof DatabaseOpenError) {
      io.stderr.write(`spawner db: ${error.message.replace(/\s*\n\s*/g, '; ')}\n`);
      return 1;
    }
    throw error;
  }
}
