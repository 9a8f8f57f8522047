// The operator's command line: `npm run spawner -- <command> …`. Each command is a module that
// returns its exit code; results go to stdout, problems to stderr as one line, never a stack trace.
import 'dotenv/config';
import { runBackup } from './backup.js';
import { runRestore } from './restore.js';
import { runDb } from './db.js';
import type { CliIo } from './io.js';

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  backup: runBackup,
  restore: runRestore,
  db: runDb,
};

const USAGE =
  'usage: spawner <command>\n  backup <file>    copy the database while Spawner runs\n  restore <file>   put a backup in place (Spawner stopped)\n  db copy-sqlite-to-postgres   copy DATABASE_PATH into the empty DATABASE_URL\n';

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(name ? `spawner: unknown command "${name}"\n${USAGE}` : USAGE);
    return 2;
  }
  return command(args, { stdout: process.stdout, stderr: process.stderr });
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`spawner: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
