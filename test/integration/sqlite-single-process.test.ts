// SQLite is one process's database (issue 15): a second Spawner on the same file is refused at
// start-up with one readable line, and a first one that dies by SIGKILL leaves no stale claim.
// Real processes (src/server.ts under tsx); Docker is pointed at a closed loopback port, as none
// of this needs it. SQLite only (listed in vitest.config.ts's SQLITE_FILE_TESTS).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ServerProcess } from '../helpers/serverProcess.js';

const dir = mkdtempSync(join(tmpdir(), 'spawner-single-'));
const servers: ServerProcess[] = [];
const env = {
  NODE_ENV: 'test',
  SECRET_KEY: 'single-process-secret-key-0123456789abcdef',
  BASE_DOMAIN: 'single.test',
  DATABASE_PATH: join(dir, 'spawner.db'),
  DOCKER_HOST: 'tcp://127.0.0.1:1',
};

afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  rmSync(dir, { recursive: true, force: true });
});

it('when a second Spawner starts on the SQLite file of a running one, then it exits non-zero with one line; after a SIGKILL of the first, a new one starts', async () => {
  const first = await ServerProcess.start(env);
  servers.push(first);
  await first.ready();

  const second = await ServerProcess.runToExit(env, 30_000);
  expect(second.code).not.toBe(0);
  expect(second.code).not.toBeNull();
  const lines = second.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toBe(
    `spawner: another Spawner is running on the SQLite database ${env.DATABASE_PATH}; SQLite serves one process only (use PostgreSQL, DATABASE_URL, for several replicas)`,
  );
  // The first one still serves.
  expect((await fetch(`${first.url}/login`)).status).toBe(200);

  await first.kill('SIGKILL');
  const third = await ServerProcess.start(env);
  servers.push(third);
  await third.ready();
  expect((await fetch(`${third.url}/login`)).status).toBe(200);
});
