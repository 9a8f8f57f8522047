// A damaged or locked SQLite file at start-up (issue 5, point 9): the real server process exits
// non-zero with one readable line on stderr naming the file and the problem, no stack trace, and
// leaves the file exactly as it was, however often a supervisor restarts it.
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, it } from 'vitest';
import { ServerProcess } from '../helpers/serverProcess.js';
import { openSqliteStores } from '../../src/db/sqlite/stores.js';

/** Each case starts real server processes: seconds of CPU each on a shared machine. */
const PROCESS_TEST_TIMEOUT_MS = 150_000;
const dir = mkdtempSync(join(tmpdir(), 'spawner-dbfaults-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Concurrent: both wait on child processes, not on each other.
describe.concurrent('when the database file is damaged or locked at start-up', () => {
  const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
  const env = (databasePath: string) => ({
    NODE_ENV: 'test',
    SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
    LOG_LEVEL: 'info',
    DATABASE_PATH: databasePath,
    // Should a server wrongly start, it must not touch anyone's containers: no Docker for it.
    DOCKER_HOST: 'tcp://127.0.0.1:1',
  });

  /** A real, migrated Spawner database with enough rows to span many pages. */
  async function realDatabase(path: string): Promise<void> {
    const opened = openSqliteStores(path);
    for (let i = 0; i < 300; i++) {
      await opened.users.create({ username: `person${i}`, email: `person${i}@example.com`, passwordHash: 'x'.repeat(60) });
    }
    await opened.close();
  }

  const cases: { name: string; prepare: (path: string) => void | Promise<void>; problem: RegExp }[] = [
    {
      name: 'garbage bytes',
      prepare: (path) => writeFileSync(path, 'This is not a database. '.repeat(3000)),
      problem: /file is not a database \(the file is damaged or not an SQLite database/,
    },
    {
      name: 'a real database cut in half',
      prepare: async (path) => {
        await realDatabase(path);
        truncateSync(path, Math.floor(statSync(path).size / 2));
      },
      problem: /damaged/,
    },
    {
      name: 'a real database with scrambled cell pointers',
      prepare: async (path) => {
        await realDatabase(path);
        // Scribble over the cell pointers of the fullest table leaf page: SQLite still opens the
        // file and only the integrity check finds (many lines of) problems.
        const file = readFileSync(path);
        const pageSize = file.readUInt16BE(16);
        let fullest = { offset: 0, cells: 0 };
        for (let offset = pageSize; offset < file.length; offset += pageSize) {
          const cells = file.readUInt16BE(offset + 3);
          if (file[offset] === 0x0d && cells > fullest.cells) fullest = { offset, cells };
        }
        const fd = openSync(path, 'r+');
        writeSync(fd, Buffer.alloc(2 * Math.min(fullest.cells, 20), 0x41), 0, undefined, fullest.offset + 8);
        closeSync(fd);
      },
      problem: /the file is damaged \(integrity check: .*out of range.* and \d+ more problem\(s\)\); restore it from a backup$/,
    },
  ];

  it(
    'when the file is damaged, then the server exits non-zero at once with one readable line naming the file, twice in a row, and the file is unchanged',
    async ({ expect }) => {
      const prepared = await Promise.all(
        cases.map(async (c, i) => {
          const path = join(dir, `damaged-${i}`, 'spawner.db');
          mkdirSync(join(dir, `damaged-${i}`));
          await c.prepare(path);
          return { ...c, path, before: sha(path) };
        }),
      );
      // Twice: a supervisor restarting it in a loop must not wear the file down either.
      for (let round = 0; round < 2; round++) {
        const results = await Promise.all(prepared.map((c) => ServerProcess.runToExit(env(c.path), 40_000)));
        results.forEach((result, i) => {
          const c = prepared[i]!;
          expect(result.code, `${c.name}: ${result.stderr}${result.stdout.slice(-1000)}`).toBe(1);
          // Nothing is waited for: the time is the start-up of a tsx process (seconds; more when
          // the whole suite shares two cores). A retry loop or a hang would run into the bound.
          expect(result.ms, c.name).toBeLessThan(30_000);
          const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
          expect(lines, c.name).toHaveLength(1);
          expect(lines[0], c.name).toContain(`spawner: Cannot open the database at ${c.path}: `);
          expect(lines[0], c.name).toMatch(c.problem);
          expect(result.stderr, c.name).not.toMatch(/\n\s+at |Error:/);
          expect(result.stdout, c.name).not.toContain('spawner listening');
          expect(sha(c.path), c.name).toBe(c.before);
        });
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'when another process holds the file locked, then the server gives up after the busy timeout with one readable line, and writes nothing',
    async ({ expect }) => {
      const lockings = [
        { name: 'BEGIN EXCLUSIVE with a pending write', lock: (db: Database.Database) => db.exec('BEGIN EXCLUSIVE') },
        { name: 'locking_mode=EXCLUSIVE after a write', lock: (db: Database.Database) => db.pragma('locking_mode = EXCLUSIVE') },
      ];
      const variants: ((typeof lockings)[number] & { path: string; locker: Database.Database; before: string })[] = [];
      for (const [i, variant] of lockings.entries()) {
        const path = join(dir, `locked-${i}`, 'spawner.db');
        await realDatabase(path);
        // Read before locking: closing any descriptor of the file would drop this process's POSIX
        // locks on it. The locker's write goes to the WAL, not into the file itself.
        const before = sha(path);
        const locker = new Database(path);
        variant.lock(locker);
        locker
          .prepare('INSERT INTO users (username, email, password_hash) VALUES (?, ?, ?)')
          .run(`locker${i}`, `locker${i}@example.com`, 'x');
        variants.push({ ...variant, path, locker, before });
      }
      try {
        const results = await Promise.all(variants.map((v) => ServerProcess.runToExit(env(v.path), 45_000)));
        results.forEach((result, i) => {
          const v = variants[i]!;
          expect(result.code, `${v.name}: ${result.stderr}${result.stdout.slice(-1000)}`).toBe(1);
          // The 5 s busy timeout plus the start-up of the process: it does not hang.
          expect(result.ms, v.name).toBeLessThan(35_000);
          const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
          expect(lines, v.name).toHaveLength(1);
          expect(lines[0], v.name).toContain(`spawner: Cannot open the database at ${v.path}: database is locked`);
          expect(lines[0], v.name).toContain('another process holds a lock');
          expect(result.stderr, v.name).not.toMatch(/\n\s+at |Error:/);
          expect(sha(v.path), v.name).toBe(v.before);
        });
      } finally {
        for (const v of variants) v.locker.close();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
