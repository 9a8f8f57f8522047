// The operators' path, offline: the real Dockerfile built on the stand-in Node image, the real
// docker-compose.yml plus the Traefik companion brought up with Debian's docker-compose 1.29 in
// one command, on a `web`-like network this test creates. A person signs up through the
// published loopback port; the containerised Spawner creates their container on that network with
// the right labels, and Traefik routes to both. `compose down` leaves the person's container
// running, `compose up` serves the same account again (data volume) and reconciles.
import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { inject } from 'vitest';
import { createTestNetwork, dockerClient, removeLabelled, TEST_RUN_LABEL } from '../helpers/docker.js';
import { FormClient } from '../helpers/formClient.js';
import { freePort } from '../helpers/ports.js';

const run = promisify(execFile);
const runId = inject('runId');
const docker = dockerClient();
const REPO = join(import.meta.dirname, '..', '..');
const SPAWNER_IMAGE = 'spawner:e2e';
const TEMPLATE_IMAGE = 'spawner-e2e-template:latest';
const TRAEFIK_IMAGE = 'local/traefik:v3.6';
const project = `spawner-e2e-${runId}`;
const domain = `e2e-${runId}.test`;
const prefix = `e2e${runId}`;
let network: string;
let projectDir: string;
let spawnerPort: number;
let traefikPort: number;

/** Runs a command; its output is kept for the error message and the timing for the log. */
async function sh(cmd: string, args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}) {
  const started = Date.now();
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd: options.cwd ?? REPO,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', DOCKER_BUILDKIT: '0', ...options.env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: options.timeoutMs ?? 120_000,
    });
    return { stdout, stderr, ms: Date.now() - started };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${(e.stdout ?? '').slice(-3000)}\n${(e.stderr ?? '').slice(-3000)}`);
  }
}

const COMPOSE_FILES = [
  'docker-compose.yml',
  'docker-compose.traefik.yml',
  'test/fixtures/compose/e2e.yml',
  'test/fixtures/compose/e2e-traefik.yml',
];
/** docker-compose 1.29 on the test's project: the scratch project directory holds its .env. */
const compose = (...args: string[]) =>
  sh(
    'docker-compose',
    ['--project-name', project, '--project-directory', projectDir, ...COMPOSE_FILES.flatMap((f) => ['-f', join(REPO, f)]), ...args],
    {
      env: { COMPOSE_DOCKER_CLI_BUILD: '0' },
      timeoutMs: 180_000,
    },
  );

/**
 * The CA certificates this host trusts beyond Node's own: the ones a TLS-re-signing proxy needs.
 * (The whole system bundle, ~220 KB, would not fit in one build argument: Linux caps a single
 * argument at 128 KiB.)
 */
function extraCaCerts(): string {
  const known = new Set(rootCertificates.map((pem) => new X509Certificate(pem).fingerprint256));
  const bundle = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
  const pems = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return pems.filter((pem) => !known.has(new X509Certificate(pem).fingerprint256)).join('\n');
}

async function spawnerContainer() {
  const [found] = await docker.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`, 'com.docker.compose.service=spawner'] },
  });
  return found;
}

/** Waits until Docker reports the Spawner container healthy (bounded). */
async function waitHealthy(ms = 90_000): Promise<string> {
  const deadline = Date.now() + ms;
  let last = 'no container';
  while (Date.now() < deadline) {
    const found = await spawnerContainer();
    if (found) {
      const info = await docker.getContainer(found.Id).inspect();
      last = `${info.State.Status}/${info.State.Health?.Status ?? 'no healthcheck'}`;
      if (info.State.Health?.Status === 'healthy') return found.Id;
      if (info.State.Status === 'exited') break;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(
    `Spawner did not become healthy (${last}); logs:\n${(await compose('logs', '--no-color', 'spawner')).stdout.slice(-4000)}`,
  );
}

/** One GET through Traefik with the given Host header. */
function viaTraefik(host: string, path = '/'): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: traefikPort, path, headers: { host }, agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Retries `check` until it passes: Traefik applies Docker events after ~2 s. */
async function eventually<T>(check: () => Promise<T>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

beforeAll(async () => {
  await sh('docker-compose', ['version']).catch((error: Error) => {
    throw new Error(`docker-compose (Debian's 1.29) is needed for this test; scripts/setup-host.sh installs it. ${error.message}`);
  });
  // Stand-in base images (no registry here), idempotent.
  await sh('bash', ['scripts/build-standin-images.sh'], { timeoutMs: 900_000 });
  // A stand-in for traefik:v3.6: the real Traefik v3.6 binary (scripts/build-traefik.sh) in an image.
  if (
    !(await docker
      .getImage(TRAEFIK_IMAGE)
      .inspect()
      .catch(() => null))
  ) {
    const context = mkdtempSync(join(tmpdir(), 'spawner-traefik-image-'));
    try {
      // build-traefik.sh prints the cached binary's path last (it builds it once from Go sources).
      const binary = (await sh('bash', ['scripts/build-traefik.sh'], { timeoutMs: 1_800_000 })).stdout.trim().split('\n').pop()!;
      await sh('cp', [binary, join(context, 'traefik')]);
      writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY traefik /traefik\nENTRYPOINT ["/traefik"]\n');
      await sh('docker', ['build', '-q', '-t', TRAEFIK_IMAGE, context]);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  }
  const build = await sh(
    'docker',
    [
      'build',
      '--build-arg',
      'NODE_IMAGE=local/node:20-bookworm-slim',
      '--build-arg',
      `EXTRA_CA_CERTS=${extraCaCerts()}`,
      '-t',
      SPAWNER_IMAGE,
      '.',
    ],
    { timeoutMs: 1_200_000 },
  );
  const cached = (build.stdout.match(/Using cache/g) ?? []).length;
  console.info(`Spawner image built in ${(build.ms / 1000).toFixed(1)} s (${cached} cached steps)`);
  await sh('docker', ['build', '-q', '--build-arg', 'BASE_IMAGE=local/nginx-unprivileged:alpine', '-t', TEMPLATE_IMAGE, 'user-template']);

  network = await createTestNetwork(runId, `spawner-e2e-${runId}-web`);
  const [httpsPort, apiPort] = [await freePort(), await freePort()];
  [spawnerPort, traefikPort] = [await freePort(), await freePort()];
  projectDir = mkdtempSync(join(tmpdir(), 'spawner-e2e-project-'));
  // What an operator's .env holds, production mode included; the rest is for the test overrides.
  const env = {
    NODE_ENV: 'production',
    SECRET_KEY: randomBytes(32).toString('hex'),
    BASE_DOMAIN: domain,
    TRAEFIK_NETWORK: network,
    USER_TEMPLATE_IMAGE: TEMPLATE_IMAGE,
    CONTAINER_NAME_PREFIX: prefix,
    CONTAINER_EXTRA_LABELS: `${TEST_RUN_LABEL}=${runId}`,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'info',
    DOCKER_GID: String(statSync('/var/run/docker.sock').gid),
    SPAWNER_IMAGE,
    TRAEFIK_IMAGE,
    TRAEFIK_HTTP_ADDRESS: `127.0.0.1:${traefikPort}`,
    TRAEFIK_HTTPS_ADDRESS: `127.0.0.1:${httpsPort}`,
    TRAEFIK_API_PORT: String(apiPort),
    // Only this run's containers: other tests' Traefik routers must not mix in.
    TRAEFIK_DOCKER_CONSTRAINTS: `Label(\`${TEST_RUN_LABEL}\`,\`${runId}\`)`,
    SPAWNER_PORT: String(spawnerPort),
    // Public services: alice's host is reached anonymously, through the forwardAuth check the
    // compose labels define (access.test.ts covers owner-only).
    SERVICE_ACCESS: 'public',
    TEST_RUN_ID: runId,
  };
  writeFileSync(
    join(projectDir, '.env'),
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
}, 1_500_000);

afterAll(async () => {
  if (projectDir) {
    await compose('down', '--volumes', '--remove-orphans').catch((error: Error) => console.error(error.message));
    rmSync(projectDir, { recursive: true, force: true });
  }
  // People's containers and volumes (compose down leaves them, as it does in production).
  await removeLabelled([`${TEST_RUN_LABEL}=${runId}`, 'spawner.managed=true']);
}, 240_000);

describe('docker-compose.yml with the Traefik companion, one command', () => {
  const direct = () => new FormClient(`http://127.0.0.1:${spawnerPort}`);

  it('when the stack comes up, then Docker reports Spawner healthy and /health says ok', async () => {
    const up = await compose('up', '-d');
    console.info(`compose up: ${(up.ms / 1000).toFixed(1)} s`);
    await waitHealthy();
    const health = await direct().get('/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', checks: { database: 'ok', docker: 'ok' } });
    const info = await docker.getContainer((await spawnerContainer())!.Id).inspect();
    expect(info.Config.User).toBe('node');
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.Config.Labels).toMatchObject({
      'traefik.http.routers.spawner.rule': `Host(\`spawner.${domain}\`) || Host(\`${domain}\`)`,
      'traefik.http.routers.spawner-wake.rule': `HostRegexp(\`^[a-z0-9-]+\\.\\Q${domain}\\E$\`)`,
      'traefik.http.services.spawner.loadbalancer.server.port': String(spawnerPort),
    });
    // On the host's network, listening on loopback only (people's containers cannot reach it).
    expect(info.HostConfig.NetworkMode).toBe('host');
  });

  it('when alice signs up through the published port, then the containerised Spawner creates her container on the network with the right labels', async () => {
    const alice = direct();
    const response = await alice.signUp('alice');
    expect(response.status, response.text.slice(0, 300)).toBe(303);
    expect(response.location).toBe('/dashboard');

    const [found] = await docker.listContainers({
      all: true,
      filters: { label: [`${TEST_RUN_LABEL}=${runId}`, 'spawner.username=alice'] },
    });
    expect(found).toBeDefined();
    const info = await docker.getContainer(found!.Id).inspect();
    const name = `${prefix}-alice-1`;
    expect(info.Name).toBe(`/${name}`);
    expect(info.State.Running).toBe(true);
    expect(info.Config.Image).toBe(TEMPLATE_IMAGE);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([network]);
    expect(info.Config.Labels).toMatchObject({
      'spawner.managed': 'true',
      'spawner.user_id': '1',
      'spawner.username': 'alice',
      'traefik.enable': 'true',
      'traefik.docker.network': network,
      [`traefik.http.routers.${name}.rule`]: `Host(\`alice.${domain}\`)`,
      [`traefik.http.routers.${name}.entrypoints`]: 'web',
    });
    // Created by the Spawner in the container: its log names the container it created.
    const logs = (await compose('logs', '--no-color', 'spawner')).stdout;
    expect(logs).toContain(`"container":"${name}","id":"${info.Id}"`);
    expect((await alice.get('/dashboard')).text).toContain('data-state="running"');
  });

  it('when requests come through Traefik, then spawner.<domain>, alice.<domain> and the wake fallback route as the labels say', async () => {
    const login = await eventually(async () => {
      const page = await viaTraefik(`spawner.${domain}`, '/login');
      expect(page.status).toBe(200);
      return page;
    });
    expect(login.headers['x-request-id']).toBeDefined();
    expect((await viaTraefik(domain, '/health')).status).toBe(200);
    const page = await eventually(async () => {
      const answer = await viaTraefik(`alice.${domain}`);
      expect(answer.status).toBe(200);
      return answer;
    });
    expect(page.text).toContain('alice');
    // A host under the domain without a router of its own falls through to Spawner …
    const fallback = await viaTraefik(`nobody.${domain}`);
    expect(fallback.headers['x-request-id']).toBeDefined();
    // … but the domain's dots are literal: a look-alike host reaches nothing.
    const lookalike = await viaTraefik(`nobody.${domain.replace('.', 'x')}`);
    expect(lookalike.status).toBe(404);
    expect(lookalike.headers['x-request-id']).toBeUndefined();
  });

  it('when compose goes down and up again, then alice’s container kept running, her account is still there and reconcile ran', async () => {
    onTestFailed(async () =>
      console.error((await compose('logs', '--no-color', 'spawner').catch(() => ({ stdout: '' }))).stdout.slice(-4000)),
    );
    const name = `${prefix}-alice-1`;
    const before = await docker.getContainer(name).inspect();
    await compose('down');
    expect(await spawnerContainer()).toBeUndefined();
    const during = await docker.getContainer(name).inspect();
    expect(during.State.Running).toBe(true);
    expect(during.State.StartedAt).toBe(before.State.StartedAt);

    await compose('up', '-d');
    await waitHealthy();
    const alice = direct();
    const response = await alice.logIn('alice');
    expect(response.status, response.text.slice(0, 300)).toBe(303);
    expect(response.location).toBe('/dashboard');
    const dashboard = await alice.get('/dashboard');
    expect(dashboard.text).toContain('data-state="running"');
    expect(dashboard.text).toContain(name);
    expect((await docker.getContainer(name).inspect()).Id).toBe(before.Id);

    const logs = (await compose('logs', '--no-color', 'spawner')).stdout;
    const reconciled = logs
      .split('\n')
      .map((line) => line.slice(line.indexOf('{')))
      .filter((line) => line.includes('reconciled containers with the database'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(reconciled.at(-1)).toMatchObject({ matched: 1, orphans: 0 });
  });
});
