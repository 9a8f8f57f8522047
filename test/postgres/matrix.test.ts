// Guards the test matrix itself: in the pg project, the apps the HTTP and integration suites build
// really run on PostgreSQL (a wrong TEST_DATABASE would otherwise pass quietly on SQLite).
import { expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';

it('when the pg project builds a test app, then its stores are on a PostgreSQL database of its own', async () => {
  const t = buildTestApp();
  const other = buildTestApp();
  try {
    const [row] = await t.query<{ v: string; db: string }>('SELECT version() AS v, current_database() AS db');
    expect(row!.v).toMatch(/^PostgreSQL /);
    expect(t.config.databaseUrl).toContain(`/${row!.db}`);
    const [second] = await other.query<{ db: string }>('SELECT current_database() AS db');
    expect(second!.db).not.toBe(row!.db);
  } finally {
    await t.close();
    await other.close();
  }
});
