// The run's template database for the PostgreSQL project: created once and migrated by the
// production code (migrateOnce, under its advisory lock), so every test app's copy starts from
// exactly what a real start-up produces.
import { migrateOnce } from '../../src/db/pg/database.js';
import { adminQuery, dropRunDatabases, templateDatabase, testDatabaseUrl } from './postgres.js';

export { dropRunDatabases };

export async function prepareTemplateDatabase(runId: string): Promise<void> {
  try {
    await adminQuery('SELECT 1');
  } catch (error) {
    throw new Error(
      `The PostgreSQL project needs its server at ${new URL(testDatabaseUrl()).host} (${(error as Error).message}). Run scripts/start-postgres.sh as root.`,
    );
  }
  const name = templateDatabase(runId);
  await adminQuery(`CREATE DATABASE "${name}"`);
  await migrateOnce(testDatabaseUrl(name), 60_000);
}
