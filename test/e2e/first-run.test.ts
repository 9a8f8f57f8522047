// A new user's first run: README's Quick start command, taken from README itself, run in a clean
// clone of this repository's HEAD (commit first: uncommitted changes are not in the clone) on a
// Docker host with no template image and no network. Only its first two steps (setup-host.sh and
// `npm ci`, which CI has done) are left out; the clone borrows this checkout's node_modules. It must
// end with Spawner serving, a person signing up over HTTP, and the dashboard's service link
// `http://<name>.localhost:<port>/` giving the template's page through Spawner's own forwarder,
// with no Traefik anywhere. The image and network names carry the run id, so "missing" is real and
// nothing of an operator's (`web`, `user-service-template:latest`) is touched.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { MANAGED_NETWORK_LABEL } from '../../src/containers/docker/prepare.js';
import { dockerClient, removeTestResources, scopeLabels } from '../helpers/docker.js';
import { FormClient } from '../helpers/formClient.js';
import { freePort } from '../helpers/ports.js';

const REPO = join(import.meta.dirname, '..', '..');
const FILE = 'first-run';
const runId = inject('runId');
const docker = dockerClient();
const image = `spawner-firstrun-${runId}:latest`;
const network = `spawner-firstrun-${runId}-web`;
/** What README's command starts with and this test leaves out (CI has run both). */
const HOST_STEPS = 'scripts/setup-host.sh && npm_config_nodedir=/usr npm ci && ';

let clone: string;
let port: number;
let child: ChildProcess | undefined;
let exited: Promise<unknown> = Promise.resolve();
let stdout = '';
let stderr = '';

/** The one command line in README's Quick start block. */
function readmeStartCommand(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Tests'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1]?.trim() ?? '';
  if (block.includes('\n')) throw new Error(`README's Quick start command is more than one line:\n${block}`);
  return block;
}

const imageExists = () =>
  docker
    .getImage(image)
    .inspect()
    .then(() => true)
    .catch(() => false);
const networkInfo = () =>
  docker
    .getNetwork(network)
    .inspect()
    .catch(() => null);

/** The JSON log lines Spawner (under `npm start`) wrote to stdout so far. */
function logLines(): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Bounded poll for a condition; on timeout the command's output explains why. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (gone || Date.now() > deadline) {
      throw new Error(`${what}: ${gone ? 'the command exited' : `not within ${ms} ms`}\n${stderr.slice(-3000)}\n${stdout.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  // The precondition is the point: neither exists before the command runs.
  expect(await imageExists()).toBe(false);
  expect(await networkInfo()).toBeNull();

  clone = mkdtempSync(join(tmpdir(), 'spawner-first-run-'));
  const head = execFileSync('git', ['-C', REPO, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  // --shared: objects come from this repository's store, so the clone is instant and HEAD is there
  // even when it is detached or this checkout is a worktree.
  execFileSync('git', ['clone', '--quiet', '--shared', '--no-checkout', REPO, clone]);
  execFileSync('git', ['-C', clone, 'checkout', '--quiet', '--detach', head]);
  symlinkSync(realpathSync(join(REPO, 'node_modules')), join(clone, 'node_modules'));

  const command = readmeStartCommand();
  expect(command.startsWith(HOST_STEPS), command).toBe(true);
  port = await freePort();
  child = spawn('bash', ['-c', command.slice(HOST_STEPS.length)], {
    cwd: clone,
    // A process group of its own, so the clean-up reaches node under npm, not only npm.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // A new user's environment (no NODE_ENV, no SECRET_KEY, no .env), plus what keeps the test
    // apart: its own port on loopback, names and labels carrying the run id, a cheap bcrypt.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      SPAWNER_PORT: String(port),
      SPAWNER_LISTEN_HOST: '127.0.0.1',
      USER_TEMPLATE_IMAGE: image,
      TRAEFIK_NETWORK: network,
      CONTAINER_NAME_PREFIX: `fr${runId}`,
      CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE),
      BCRYPT_COST: '4',
      LOG_LEVEL: 'info',
    },
  });
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const running = child;
  exited = new Promise((resolve) => running.once('exit', resolve));
}, 30_000);

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const group = -child.pid;
    process.kill(group, 'SIGTERM');
    const timer = setTimeout(() => process.kill(group, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  // People's containers and volumes one at a time, by this file's labels; then what the command made.
  await removeTestResources(runId, FILE);
  const info = await networkInfo();
  if (info?.Labels?.[MANAGED_NETWORK_LABEL] === 'true') await docker.getNetwork(network).remove();
  if (await imageExists()) await docker.getImage(image).remove();
  if (clone) rmSync(clone, { recursive: true, force: true });
}, 60_000);

describe("README's start command on a fresh host", () => {
  it('when it runs in a clean clone, then it builds the template image, Spawner creates the network (logged) and /health says ok', async () => {
    onTestFailed(() => console.error(`${stderr.slice(-3000)}\n${stdout.slice(-3000)}`));
    const health = await waitFor(
      'Spawner did not answer /health',
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        return response.status === 200 ? ((await response.json()) as unknown) : undefined;
      },
      120_000,
    );
    expect(health).toMatchObject({ status: 'ok', checks: { database: 'ok', docker: 'ok' } });

    // The script says where the base came from: pulled, or (no registry) the offline stand-in.
    expect(stderr).toMatch(/pulled nginxinc\/nginx-unprivileged:alpine|cannot pull nginxinc\/nginx-unprivileged:alpine .*offline stand-in/);
    expect(stderr).toContain(`built template image ${image}`);
    expect(await imageExists()).toBe(true);

    const created = await waitFor(
      'no log line about the created network',
      async () => logLines().find((line) => line.network === network && String(line.msg).startsWith('created the missing Docker network')),
      10_000,
    );
    expect(created).toMatchObject({ level: 30, component: 'prepare' });
    const info = await networkInfo();
    expect(info).toMatchObject({ Driver: 'bridge', Labels: { [MANAGED_NETWORK_LABEL]: 'true' } });
  });

  it('when a person signs up over HTTP, then the dashboard links to <name>.localhost and that link, after the access round trip, gives the template’s page', async () => {
    onTestFailed(() => console.error(`${stderr.slice(-3000)}\n${stdout.slice(-3000)}`));
    // As a browser does: it resolves *.localhost to 127.0.0.1 and sends the name as Host.
    const spawnerHost = `spawner.localhost:${port}`;
    const carol = new FormClient(`http://127.0.0.1:${port}`, { host: spawnerHost });
    const signup = await carol.signUp('carol');
    expect(signup.status, signup.text.slice(0, 500)).toBe(303);
    expect(signup.location).toBe('/dashboard');
    const dashboard = await carol.get('/dashboard');
    const link = `http://carol.localhost:${port}/`;
    expect(dashboard.text).toContain(`href="${link}"`);
    expect(dashboard.text).toContain('data-state="running"');

    // With a browser's User-Agent: requests without one are taken for bots and wake nothing.
    const service = new FormClient(`http://127.0.0.1:${port}`, {
      host: new URL(link).host,
      accept: 'text/html',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) first-run test',
    });
    // Only the owner gets in: the service sends the browser to Spawner's authorize page (and,
    // carol being logged in there, on to the service's callback, which sets the access cookie).
    const asked = await service.get('/');
    expect(asked.status).toBe(302);
    const authorize = new URL(asked.location!);
    expect(authorize.host).toBe(spawnerHost);
    const granted = await carol.get(`${authorize.pathname}${authorize.search}`);
    expect(granted.status, granted.text.slice(0, 300)).toBe(302);
    const callback = new URL(granted.location!);
    expect(callback.host).toBe(new URL(link).host);
    const back = await service.get(`${callback.pathname}${callback.search}`);
    expect(back.location).toBe(link);
    // A browser would show the starting page and reload; wait the same way, bounded.
    const page = await waitFor(
      'the service link never gave the template page',
      async () => {
        const answer = await service.get('/');
        return answer.status === 200 && answer.text.includes('id="spawner-user"') ? answer : undefined;
      },
      30_000,
    );
    expect(page.text).toContain('Hello, <span id="spawner-user">carol</span>!');
    expect(page.text).toContain('This is your own space: a container that runs just for you.');
  });
});
