// The command-line tool as an operator runs it: a real child process (`node --import tsx
// src/cli/main.ts`, what `npm run spawner --` runs) on the same database as a Spawner app, on
// SQLite or PostgreSQL as the project says, and the real Docker engine for `user disable`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, containerOf, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { logIn, signUp } from '../helpers/http.js';

const ROOT = join(import.meta.dirname, '..', '..');
const runId = inject('runId');
let t: TestApp;
let env: Record<string, string>;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-cli`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network } });
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    DOTENV_CONFIG_PATH: join(ROOT, '.env.does-not-exist'),
    NODE_ENV: 'test',
    BCRYPT_COST: '4',
    LOG_LEVEL: 'warn',
    DATABASE_PATH: t.config.databasePath,
    ...(t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : {}),
    CONTAINER_NAME_PREFIX: t.config.containers.namePrefix,
    USER_TEMPLATE_IMAGE: t.config.containers.image,
    TRAEFIK_NETWORK: network,
    BASE_DOMAIN: t.config.baseDomain,
  };
});

afterAll(() => t?.close());

function cli(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

async function auditRows(action: string, target: string) {
  return t.query<{ actor_kind: string; actor_name: string; result: string }>(
    'SELECT actor_kind, actor_name, result FROM audit_log WHERE action = ? AND target = ?',
    action,
    target,
  );
}

describe('spawner user create', () => {
  it('when given a name, an address and --admin, then the account exists as an admin, a password is printed once, one audit row', async () => {
    const run = await cli(['user', 'create', 'cli-ann', '--email', 'ann@example.com', '--admin']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^created cli-ann \(admin\)\npassword: \S{20,}\n$/);
    const user = await t.services.users.findByUsername('cli-ann');
    expect(user).toMatchObject({ email: 'ann@example.com', isAdmin: true, approval: 'approved', disabled: false });
    // The printed password logs in.
    const password = /password: (\S+)/.exec(run.stdout)![1]!;
    expect(await t.services.accounts.verify('cli-ann', password)).toMatchObject({ id: user!.id });
    expect(await auditRows('user.create', 'cli-ann')).toEqual([{ actor_kind: 'system', actor_name: 'cli', result: 'ok' }]);
  });

  it('when --password-stdin is given, then the password read from stdin (newline dropped) is the one that logs in', async () => {
    const run = await cli(['user', 'create', 'cli-ben', '--email', 'ben@example.com', '--password-stdin'], 'correct horse battery\n');
    expect(run).toMatchObject({ code: 0, stdout: 'created cli-ben\n' });
    expect(await t.services.accounts.verify('cli-ben', 'correct horse battery')).not.toBeNull();
    expect((await t.services.users.findByUsername('cli-ben'))?.isAdmin).toBe(false);
  });

  it('when the name is taken, then one line on stderr, exit 1, nothing created, a refused audit row', async () => {
    const before = await t.services.users.count();
    const run = await cli(['user', 'create', 'cli-ann', '--email', 'other@example.com']);
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'spawner: This username is taken.\n' });
    expect(await t.services.users.count()).toBe(before);
    expect((await auditRows('user.create', 'cli-ann')).map((r) => r.result).sort()).toEqual(['ok', 'refused']);
  });

  it('when --email is missing or an option is unknown, then a usage line and exit 2', async () => {
    expect(await cli(['user', 'create', 'cli-cat'])).toEqual({ code: 2, stdout: '', stderr: 'spawner: --email is required\n' });
    expect(await cli(['user', 'create', 'cli-cat', '--email', 'c@example.com', '--admn'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'spawner: unknown option --admn\n',
    });
    expect(await t.services.users.findByUsername('cli-cat')).toBeUndefined();
  });
});

describe('spawner user set-admin', () => {
  it('when set true then false, then the flag follows and each leaves one audit row', async () => {
    expect(await cli(['user', 'set-admin', 'cli-ben', 'true'])).toEqual({ code: 0, stdout: 'cli-ben is now an admin\n', stderr: '' });
    expect((await t.services.users.findByUsername('cli-ben'))?.isAdmin).toBe(true);
    expect(await cli(['user', 'set-admin', 'cli-ben', 'false'])).toEqual({
      code: 0,
      stdout: 'cli-ben is no longer an admin\n',
      stderr: '',
    });
    expect((await t.services.users.findByUsername('cli-ben'))?.isAdmin).toBe(false);
    expect(await auditRows('user.set-admin', 'cli-ben')).toHaveLength(2);
  });

  it('when the value is not true or false, or the person does not exist, then one line and a non-zero exit', async () => {
    expect(await cli(['user', 'set-admin', 'cli-ben', 'yes'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'spawner: usage: user set-admin <name> true|false\n',
    });
    expect(await cli(['user', 'set-admin', 'nobody-here', 'true'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'spawner: There is no account called nobody-here.\n',
    });
  });
});

describe('spawner user disable / enable', () => {
  it('when a logged-in person with a running container is disabled, then the container stops, the session ends and login is refused; enable lets them in again', async () => {
    const agent = request.agent(t.app);
    await signUp(agent, { username: 'cli-dan' });
    const { name } = await containerOf(t, 'cli-dan');
    const docker = dockerClient();
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(true);

    const run = await cli(['user', 'disable', 'cli-dan']);
    expect(run).toEqual({ code: 0, stdout: 'disabled cli-dan: logged out everywhere, container stopped\n', stderr: '' });
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(false);
    expect((await t.services.users.findByUsername('cli-dan'))?.disabled).toBe(true);
    // The old session is gone on its next request.
    const dashboard = await agent.get('/dashboard');
    expect(dashboard.status).toBe(303);
    expect(dashboard.headers.location).toBe('/login');
    const refused = await logIn(request.agent(t.app), { username: 'cli-dan' });
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('This account has been disabled');
    expect(await auditRows('login.refused', 'cli-dan')).toHaveLength(1);

    expect(await cli(['user', 'enable', 'cli-dan'])).toEqual({ code: 0, stdout: 'enabled cli-dan\n', stderr: '' });
    const again = await logIn(request.agent(t.app), { username: 'cli-dan' });
    expect(again.status).toBe(303);
    expect((await auditRows('user.disable', 'cli-dan')).length + (await auditRows('user.enable', 'cli-dan')).length).toBe(2);
  });

  it('when the person does not exist, then one line and exit 1', async () => {
    expect(await cli(['user', 'disable', 'nobody-here'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'spawner: There is no account called nobody-here.\n',
    });
  });

  it('when the command is unknown, then one line and exit 2', async () => {
    expect(await cli(['user', 'frobnicate'])).toMatchObject({ code: 2, stdout: '' });
  });
});
