// Backups that restore (issue 15): `spawner backup` taken from a real Spawner process while a
// bounded write load (signups and logins) runs against it, then `spawner restore` into a fresh
// instance on the same Docker engine: everyone who had signed up before the backup started logs
// in, nobody who signed up after it finished exists, and reconcile matches their containers.
// Also: restore refuses while a Spawner holds the file. SQLite only (vitest.config.ts).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { createTestNetwork, removeTestResources, scopeLabels } from '../helpers/docker.js';
import { uniquePrefix } from '../helpers/app.js';
import { FormClient } from '../helpers/formClient.js';
import { ServerProcess } from '../helpers/serverProcess.js';
import { TEST_IMAGE } from '../helpers/testImage.js';

const runId = inject('runId');
const FILE = 'backup';
const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'spawner-backup-'));
const servers: ServerProcess[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  await removeTestResources(runId, FILE);
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

it('when a backup is taken during signups and logins and restored into a fresh instance, then the people who existed log in and their containers are matched', async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`);
  const base = {
    NODE_ENV: 'test',
    SECRET_KEY: 'backup-test-secret-key-0123456789abcdef',
    LOG_LEVEL: 'info',
    BASE_DOMAIN: 'backup.test',
    TRAEFIK_NETWORK: network,
    USER_TEMPLATE_IMAGE: TEST_IMAGE,
    CONTAINER_NAME_PREFIX: uniquePrefix(),
    CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE),
    RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    RATE_LIMIT_SIGNUP_PER_HOUR: '1000',
    BCRYPT_COST: '4',
  };
  const live = { ...base, DATABASE_PATH: join(dir, 'live', 'spawner.db') };
  const first = await ServerProcess.start(live);
  servers.push(first);
  await first.ready();

  // The load: signups one after another, each followed by a login of the one before, until told
  // to stop (bounded in count and time).
  const done: { name: string; started: number; at: number }[] = [];
  let stop = false;
  const deadline = Date.now() + 60_000;
  const load = (async () => {
    for (let i = 0; i < 40 && !stop && Date.now() < deadline; i++) {
      const name = `load${i}`;
      const started = Date.now();
      const response = await new FormClient(first.url).signUp(name);
      expect(response.location, name).toMatch(/\/dashboard$/);
      done.push({ name, started, at: Date.now() });
      if (i > 0) expect((await new FormClient(first.url).logIn(`load${i - 1}`)).location).toMatch(/\/dashboard$/);
    }
  })();
  while (done.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

  const backupFile = join(dir, 'copy.db');
  const backupStarted = Date.now();
  const backup = await cli(['backup', backupFile], live);
  const backupFinished = Date.now();
  expect(backup.stderr).toBe('');
  expect(backup.code).toBe(0);
  expect(backup.stdout).toMatch(/integrity ok/);
  // A few more signups after the backup, so some accounts must be missing from it.
  const countAtFinish = done.length;
  while (done.length < countAtFinish + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  stop = true;
  await load;

  // Restore refuses while the Spawner runs on the target file.
  const refused = await cli(['restore', backupFile], live);
  expect(refused.code).toBe(1);
  expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  expect(refused.stderr).toContain('another Spawner is running on the SQLite database');
  await first.kill('SIGTERM');

  // A fresh instance (its own file), same engine and container names: restore, start, reconcile.
  const fresh = { ...base, DATABASE_PATH: join(dir, 'fresh', 'spawner.db') };
  const restored = await cli(['restore', backupFile], fresh);
  expect(restored.stderr).toBe('');
  expect(restored.code).toBe(0);
  expect(existsSync(fresh.DATABASE_PATH)).toBe(true);
  const second = await ServerProcess.start(fresh);
  servers.push(second);
  await second.ready();
  const reconciled = await second.waitForLog((line) => line.msg === 'reconciled containers with the database', 30_000);

  const before = done.filter((d) => d.at <= backupStarted).map((d) => d.name);
  // The account row is written when the signup starts; its answer waits for the container.
  const after = done.filter((d) => d.started > backupFinished).map((d) => d.name);
  expect(before.length).toBeGreaterThanOrEqual(4);
  expect(after.length).toBeGreaterThanOrEqual(1);
  for (const name of before) {
    expect((await new FormClient(second.url).logIn(name)).location, name).toMatch(/\/dashboard$/);
  }
  for (const name of after) {
    // A failed login re-renders the form: no redirect to the dashboard.
    const refusedLogin = await new FormClient(second.url).logIn(name);
    expect(refusedLogin.location, name).toBeNull();
    expect(refusedLogin.status, name).toBeGreaterThanOrEqual(400);
  }
  // Every restored account's container was found on the engine and matched to it.
  expect(reconciled.matched).toBeGreaterThanOrEqual(before.length);
  expect(reconciled.missing).toBe(0);
  console.info(`backup: ${before.length} accounts before, ${after.length} after; reconcile matched ${String(reconciled.matched)}`);
}, 180_000);
