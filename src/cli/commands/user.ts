// `spawner user …`: accounts without the web (create, set-admin, disable, enable). Each prints
// one line on success; the audit row's actor is system/cli.
import type { CliCommand } from '../table.js';
import { parseArgs, UsageError } from '../args.js';
import type { Acting } from '../../services/people.js';

const CLI: Acting = { actor: { kind: 'system', name: 'cli' } };

function oneName(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(`usage: ${usage}`);
  return positionals[0]!;
}

export const userCommands: CliCommand[] = [
  {
    name: 'user create',
    usage: 'user create <name> --email <address> [--admin] [--password-stdin]',
    run: async (argv, ctx) => {
      const { positionals, options } = parseArgs(argv, { email: 'value', admin: 'flag', 'password-stdin': 'flag' });
      const name = oneName(positionals, 'user create <name> --email <address> [--admin] [--password-stdin]');
      if (typeof options.email !== 'string') throw new UsageError('--email is required');
      // One line on stdin; the newline an `echo` adds is not part of the password.
      const password = options['password-stdin'] ? (await ctx.readStdin()).replace(/\r?\n$/, '') : undefined;
      const { user, generatedPassword } = await ctx
        .people()
        .create({ username: name, email: options.email, password, admin: options.admin === true }, CLI);
      ctx.print(`created ${user.username}${user.isAdmin ? ' (admin)' : ''}`);
      if (generatedPassword) ctx.print(`password: ${generatedPassword}`);
    },
  },
  {
    name: 'user set-admin',
    usage: 'user set-admin <name> true|false',
    run: async (argv, ctx) => {
      const { positionals } = parseArgs(argv, {});
      if (positionals.length !== 2 || !['true', 'false'].includes(positionals[1]!))
        throw new UsageError('usage: user set-admin <name> true|false');
      const user = await ctx.people().setAdmin(positionals[0]!, positionals[1] === 'true', CLI);
      ctx.print(`${user.username} is ${user.isAdmin ? 'now an admin' : 'no longer an admin'}`);
    },
  },
  {
    name: 'user disable',
    usage: 'user disable <name>',
    run: async (argv, ctx) => {
      const name = oneName(parseArgs(argv, {}).positionals, 'user disable <name>');
      const user = await ctx.people().setDisabled(name, true, CLI);
      ctx.print(`disabled ${user.username}: logged out everywhere, container stopped`);
    },
  },
  {
    name: 'user enable',
    usage: 'user enable <name>',
    run: async (argv, ctx) => {
      const name = oneName(parseArgs(argv, {}).positionals, 'user enable <name>');
      const user = await ctx.people().setDisabled(name, false, CLI);
      ctx.print(`enabled ${user.username}`);
    },
  },
];
