import { defineConfig } from 'vitest/config';

// Three projects: the normal suite (unit, HTTP, real Docker) on SQLite; the HTTP and integration
// suites again on PostgreSQL (`pg`), with the PostgreSQL-only tests; and the end-to-end suite (real
// Traefik, real browser), on SQLite. `npm test` runs all three; `npm run test:e2e` runs the last.

/**
 * Left out of the PostgreSQL run, each because what it proves is about the SQLite file itself:
 * they start real Spawner processes on a file they damage, lock, SIGKILL mid-write or check for
 * a clean WAL checkpoint. The stores they pass through run on PostgreSQL in the other files.
 */
const SQLITE_FILE_TESTS = [
  'test/integration/database-faults.test.ts',
  'test/integration/faults.test.ts',
  'test/integration/shutdown.test.ts',
  'test/integration/sqlite-single-process.test.ts',
  'test/integration/backup.test.ts',
];
export default defineConfig({
  test: {
    // Native modules (better-sqlite3, bcrypt) are safest in child processes rather than threads.
    pool: 'forks',
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/summaryReporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/unit/**/*.test.ts', 'test/http/**/*.test.ts', 'test/integration/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        // After the main project, so the SQLite run stays as it was; every store is covered here
        // (users, sessions and rate limits through HTTP, and test/postgres/ on the stores directly).
        test: {
          name: 'pg',
          include: ['test/http/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/postgres/**/*.test.ts'],
          exclude: SQLITE_FILE_TESTS,
          env: { TEST_DATABASE: 'postgres' },
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        // After the main project, one file at a time: each starts its own Traefik and containers.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
