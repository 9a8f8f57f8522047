#!/usr/bin/env node
// `spawner <command>` (npm run spawner -- <command>): manages Spawner without the web, on the same
// config and database as the server. Exit 0 with the answer on stdout; otherwise one readable
// line on stderr and exit 1 (2 for a usage mistake). Never a stack trace.
import 'dotenv/config';
import { ConfigError } from '../config.js';
import { AppError, ValidationError } from '../errors.js';
import { DatabaseOpenError } from '../db/stores.js';
import { UsageError } from './args.js';
import { openContext } from './context.js';
import { findCommand, usage } from './table.js';
import { runBackup } from './backup.js';
import { runRestore } from './restore.js';
import { runDb } from './db.js';
import type { CliIo } from './io.js';

/**
 * Commands that handle the database file themselves (a restore must not open it as the server
 * does; a backup reads it beside a running Spawner): they get the raw words and return the code.
 */
const FILE_COMMANDS: Record<string, { usage: string; run: (args: string[], io: CliIo) => Promise<number> }> = {
  backup: { usage: 'backup <file>              copy the database while Spawner runs', run: runBackup },
  restore: { usage: 'restore <file>             put a backup in place (Spawner stopped)', run: runRestore },
  db: { usage: 'db copy-sqlite-to-postgres copy DATABASE_PATH into the empty DATABASE_URL', run: runDb },
};

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', reject);
  });
}

/** The one line an operator reads for a failure. */
export function describeFailure(error: unknown): string {
  if (error instanceof ConfigError) return `invalid configuration: ${error.problems.join('; ')}`;
  if (error instanceof ValidationError) return Object.values(error.fields).join(' ');
  if (error instanceof AppError) return error.publicMessage;
  if (error instanceof DatabaseOpenError || error instanceof UsageError) return error.message;
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help') {
    const fileUsage = Object.values(FILE_COMMANDS).map((c) => `  ${c.usage}`);
    process.stdout.write(`${[usage(), ...fileUsage].join('\n')}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const fileCommand = FILE_COMMANDS[argv[0]!];
  if (fileCommand) return fileCommand.run(argv.slice(1), { stdout: process.stdout, stderr: process.stderr });
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`spawner: unknown command "${argv.slice(0, 2).join(' ')}" (spawner help lists them)\n`);
    return 2;
  }
  let ctx;
  try {
    ctx = await openContext(process.env, { print: (line) => process.stdout.write(`${line}\n`), readStdin });
  } catch (error) {
    process.stderr.write(`spawner: ${describeFailure(error)}\n`);
    return 1;
  }
  try {
    await found.command.run(found.rest, ctx);
    return 0;
  } catch (error) {
    process.stderr.write(`spawner: ${describeFailure(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await ctx.close().catch(() => undefined);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`spawner: ${describeFailure(error)}\n`);
    process.exitCode = 1;
  },
);
