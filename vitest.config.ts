import { defineConfig } from 'vitest/config';

// Two projects: the normal suite (unit, HTTP, real Docker) and the end-to-end suite (real Traefik,
// real browser). `npm test` runs both; `npm run test:e2e` runs the second alone.
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
        // After the main project, one file at a time: each starts its own Traefik and containers.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
