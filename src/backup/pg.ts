// PostgreSQL backups are pg_dump's job ("consistent backups even if the database is being used
// concurrently"): the custom format (-Fc), restored with pg_restore. The password goes to pg_dump
// through PGPASSWORD, never on its command line.
import { execFile } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BackupError } from './sqlite.js';

export async function pgDump(url: string, target: string): Promise<void> {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  const final = resolve(target);
  const temp = join(dirname(final), `.${basename(final)}.${process.pid}.tmp`);
  await new Promise<void>((done, fail) => {
    execFile(
      'pg_dump',
      ['-Fc', '-f', temp, parsed.toString()],
      { env: { PATH: process.env.PATH, PGPASSWORD: password }, timeout: 3_600_000 },
      (error, _stdout, stderr) => {
        if (!error) return done();
        rmSync(temp, { force: true });
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          return fail(
            new BackupError(
              'pg_dump is not installed here; install the PostgreSQL client (e.g. apt-get install postgresql-client) or run pg_dump -Fc yourself',
            ),
          );
        }
        fail(new BackupError(`pg_dump failed: ${stderr.trim().split('\n')[0] ?? error.message}`));
      },
    );
  });
  renameSync(temp, final);
}
