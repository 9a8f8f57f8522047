// Moving from SQLite to PostgreSQL (issue 15): `spawner db copy-sqlite-to-postgres` copies every
// table of a real SQLite file into an empty PostgreSQL database; every account, password hash,
// container record and share survives, the people log in on a real Spawner process on PostgreSQL
// afterwards, a new signup gets a fresh id, and a second copy into the now non-empty database is
// refused with one line.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { afterAll, expect, inject, it } from 'vitest';
import { openSqliteStores } from '../../src/db/sqlite/stores.js';
import { createTestNetwork, removeTestResources, scopeLabels } from '../helpers/docker.js';
import { uniquePrefix } from '../helpers/app.js';
import { FormClient } from '../helpers/formClient.js';
import { ServerProcess } from '../helpers/serverProcess.js';
import { TEST_IMAGE } from '../helpers/testImage.js';
import { adminQuery, dropTestDatabase, testDatabaseUrl } from '../helpers/postgres.js';

const runId = inject('runId');
const FILE = 'copy';
const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'spawner-copy-'));
const database = `spawner_t_${runId}_copy`;
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.kill();
  await removeTestResources(runId, FILE);
  await dropTestDatabase(database);
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, DOTENV_CONFIG_PATH: join(ROOT, '.env.does-not-exist'), ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

it('when a SQLite database is copied into an empty PostgreSQL one, then every account, hash, container record and share survives and the people log in', async () => {
  const sqlitePath = join(dir, 'spawner.db');
  const stores = openSqliteStores(sqlitePath);
  const names = ['ada', 'grace', 'linus'];
  for (const [i, name] of names.entries()) {
    const user = await stores.users.create({
      username: name,
      email: `${name}@example.com`,
      passwordHash: await bcrypt.hash(`pw-${name}-long-enough`, 4),
    });
    await stores.users.setContainer(user.id, { id: `deadbeef${i}`, name: `old-${name}` });
  }
  // A gap in the ids (a deleted account): the next id on PostgreSQL must still be past the last.
  await stores.users.delete((await stores.users.findByUsername('grace'))!.id);
  const [ada, linus] = [(await stores.users.findByUsername('ada'))!, (await stores.users.findByUsername('linus'))!];
  await stores.shares.add(ada.id, linus.id);
  const before = await stores.users.all();
  const sharesBefore = await stores.shares.all();
  await stores.close();

  await adminQuery(`CREATE DATABASE "${database}"`);
  const network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`);
  const env = {
    NODE_ENV: 'test',
    SECRET_KEY: 'copy-test-secret-key-0123456789abcdef',
    BASE_DOMAIN: 'copy.test',
    DATABASE_PATH: sqlitePath,
    DATABASE_URL: testDatabaseUrl(database),
    TRAEFIK_NETWORK: network,
    USER_TEMPLATE_IMAGE: TEST_IMAGE,
    CONTAINER_NAME_PREFIX: uniquePrefix(),
    CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE),
    BCRYPT_COST: '4',
  };
  const copied = await cli(['db', 'copy-sqlite-to-postgres'], env);
  expect(copied.stderr).toBe('');
  expect(copied.code).toBe(0);
  expect(copied.stdout).toContain('users 2');
  expect(copied.stdout).toContain('shares 1');

  const client = new pg.Client({ connectionString: testDatabaseUrl(database) });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT id, username, email, password_hash, container_id, container_name, created_at, is_admin FROM users ORDER BY id',
    );
    expect(rows).toEqual(
      before.map((u) => ({
        id: u.id,
        username: u.username,
        email: u.email,
        password_hash: u.passwordHash,
        container_id: u.containerId,
        container_name: u.containerName,
        created_at: u.createdAt,
        is_admin: u.isAdmin,
      })),
    );
    const shares = await client.query('SELECT owner_id, user_id FROM shares');
    expect(shares.rows).toEqual(sharesBefore.map((s) => ({ owner_id: s.ownerId, user_id: s.userId })));
  } finally {
    await client.end();
  }

  const again = await cli(['db', 'copy-sqlite-to-postgres'], env);
  expect(again.code).toBe(1);
  expect(again.stderr.trim().split('\n')).toHaveLength(1);
  expect(again.stderr).toContain('not empty');

  server = await ServerProcess.start(env);
  await server.ready();
  for (const name of ['ada', 'linus']) {
    expect((await new FormClient(server.url).logIn(name, `pw-${name}-long-enough`)).location, name).toMatch(/\/dashboard$/);
  }
  // The sequence continues after the copied ids: a new signup is not a duplicate key.
  expect((await new FormClient(server.url).signUp('newcomer')).location).toMatch(/\/dashboard$/);
});
