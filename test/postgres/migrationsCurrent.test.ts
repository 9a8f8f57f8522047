// The committed migrations must match the schemas: a column added to src/db/*/schema.ts without
// `npm run db:generate` would reach no database. drizzle-kit generate runs for each dialect on a
// copy of its migrations folder; it writes a new migration exactly when the folder is stale. It
// also exits 0 when it fails (a bad path, a question it cannot ask), so the test wants both: no
// new file, and its "No schema changes" report. (Here rather than in the SQLite run: it belongs
// with the parity test, which needs both dialects.)
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';

const run = promisify(execFile);
const root = projectRoot();
const scratch = mkdtempSync(join(tmpdir(), 'spawner-migrations-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const dialects = [
  { dialect: 'sqlite', schema: 'src/db/sqlite/schema.ts', folder: 'drizzle' },
  { dialect: 'postgresql', schema: 'src/db/pg/schema.ts', folder: 'drizzle-pg' },
] as const;

/** Every file under `dir`, relative to it. */
const filesUnder = (dir: string): string[] =>
  (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();

describe('the committed migrations', () => {
  it.each(dialects)(
    'when drizzle-kit generate runs for $dialect, then it finds nothing to add to $folder/',
    async ({ dialect, schema, folder }) => {
      const out = join(scratch, folder);
      cpSync(join(root, folder), out, { recursive: true });
      const before = filesUnder(out);
      expect(before).toContain('meta/_journal.json');
      const config = join(scratch, `${dialect}.config.mjs`);
      // Relative to the repository: drizzle-kit puts './' in front of `out`, which breaks absolute paths.
      writeFileSync(config, `export default ${JSON.stringify({ dialect, schema, out: relative(root, out) })};\n`);
      // stdin closed: a question (is this a rename?) must fail the test, not hang it.
      const { stdout, stderr } = await run(
        process.execPath,
        [join(root, 'node_modules/drizzle-kit/bin.cjs'), 'generate', '--config', config],
        {
          cwd: root,
          timeout: 60_000,
          env: { ...process.env, NO_COLOR: '1' },
        },
      );
      const added = filesUnder(out).filter((file) => !before.includes(file));
      expect(added, `the migrations in ${folder}/ are stale: run \`npm run db:generate\` and commit them\n${stdout}`).toEqual([]);
      expect(`${stdout}${stderr}`, 'drizzle-kit did not report on the schema').toContain('No schema changes');
    },
  );
});
