// The CLI's command table: every command is a small module that adds entries here (user today;
// token, invite, backup and restore later). A command is found by its longest matching words.
import type { CliContext } from './context.js';
import { userCommands } from './commands/user.js';

export interface CliCommand {
  /** The words that name it, e.g. 'user create'. */
  name: string;
  usage: string;
  run(argv: string[], ctx: CliContext): Promise<void>;
}

export const commands: readonly CliCommand[] = [...userCommands];

/** The command the words start with, and the words after its name. */
export function findCommand(
  argv: readonly string[],
  table: readonly CliCommand[] = commands,
): { command: CliCommand; rest: string[] } | undefined {
  for (const length of [3, 2, 1]) {
    const words = argv.slice(0, length).join(' ');
    const command = table.find((c) => c.name === words);
    if (command) return { command, rest: argv.slice(length) };
  }
  return undefined;
}

export function usage(table: readonly CliCommand[] = commands): string {
  return ['usage: spawner <command>', ...table.map((c) => `  ${c.usage}`)].join('\n');
}
