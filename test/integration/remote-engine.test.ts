// Spawner on a Docker engine reached over TCP (DOCKER_HOST=tcp://…), as with a socket proxy or a
// remote engine: against dockerd's own loopback TCP endpoint (scripts/setup-host.sh starts dockerd
// with -H tcp://127.0.0.1:2375), and through a proxy that answers only the API sections the
// compose file's socket-proxy profile opens, with the rules of tecnativa/docker-socket-proxy.
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { parse } from 'yaml';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, signUp } from '../helpers/http.js';

const runId = inject('runId');
const docker = dockerClient();
const ENGINE_TCP = 'tcp://127.0.0.1:2375';
let network: string;

async function containerOf(app: TestApp, username: string) {
  const user = await app.services.users.findByUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  return { user, info: await docker.getContainer(`${app.config.containers.namePrefix}-${username}-${user.id}`).inspect() };
}

beforeAll(async () => {
  try {
    const ping = await fetch('http://127.0.0.1:2375/_ping', { signal: AbortSignal.timeout(3000) });
    if (!ping.ok) throw new Error(`HTTP ${ping.status}`);
  } catch (error) {
    throw new Error(
      `dockerd does not answer on ${ENGINE_TCP} (${(error as Error).message}). This test needs the engine to listen on ` +
        'loopback TCP as well: start dockerd with -H unix:///var/run/docker.sock -H tcp://127.0.0.1:2375 (scripts/setup-host.sh does).',
    );
  }
  network = await createTestNetwork(runId, `spawner-test-${runId}-remote`);
});

describe('DOCKER_HOST=tcp://127.0.0.1:2375', () => {
  let t: TestApp;
  beforeAll(() => {
    t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, DOCKER_HOST: ENGINE_TCP } });
  });
  afterAll(() => t?.close());

  it('when a person signs up, then their container runs, created over TCP', async () => {
    expect(t.config.docker.host).toBe(ENGINE_TCP);
    expectRedirect(await signUp(request.agent(t.app), { username: 'remote' }), '/dashboard');
    const { user, info } = await containerOf(t, 'remote');
    expect(info.State.Running).toBe(true);
    expect(info.Id).toBe(user.containerId);
    expect(info.Config.Labels).toMatchObject({ 'spawner.managed': 'true', 'spawner.username': 'remote', 'spawner.test-run': runId });
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([network]);
    expect((await request(t.app).get('/health')).body.checks).toEqual({ database: 'ok', docker: 'ok' });
  });

  it('when DOCKER_HOST names a port where no engine listens, then Spawner does not fall back to the socket', async () => {
    const nowhere = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TIMEOUT: '2s' } });
    try {
      const agent = request.agent(nowhere.app);
      expectRedirect(await signUp(agent, { username: 'nowhere' }), '/dashboard');
      expect((await agent.get('/dashboard')).text).toContain('The container engine is not reachable');
      expect((await request(nowhere.app).get('/health')).body.checks.docker).toBe('error');
      const user = (await nowhere.services.users.findByUsername('nowhere'))!;
      const found = await docker.listContainers({
        all: true,
        filters: { name: [`${nowhere.config.containers.namePrefix}-nowhere-${user.id}`] },
      });
      expect(found).toHaveLength(0);
    } finally {
      await nowhere.close();
    }
  });
});

/**
 * The access rules of tecnativa/docker-socket-proxy (haproxy.cfg.template of its current release,
 * which is the strictest: DELETE gated apart from POST, exec/kill/attach/logs denied unless
 * allowed), driven by the environment the compose file gives the proxy.
 */
function socketProxyAllows(env: Record<string, string>, method: string, rawPath: string): boolean {
  const on = (name: string) => env[name] === '1' || env[name]?.toLowerCase() === 'true';
  const path = decodeURIComponent(rawPath.split('?')[0] ?? '');
  const v = String.raw`^(/v[\d.]+)?`;
  const matches = (re: string) => new RegExp(v + re, 'i').test(path);
  const methodOk =
    method === 'GET' ||
    method === 'HEAD' ||
    (method === 'POST' && on('POST')) ||
    (method === 'DELETE' && on('DELETE')) ||
    (method === 'PUT' && on('PUT')) ||
    (method === 'PATCH' && on('PATCH'));
  if (!methodOk) return false;
  const container = String.raw`/containers/[a-zA-Z0-9_.-]+/`;
  for (const [sub, flag] of [
    ['exec', 'ALLOW_EXEC'],
    ['kill', 'ALLOW_KILL'],
    ['attach', 'ALLOW_ATTACH'],
    ['archive', 'ALLOW_ARCHIVE'],
    ['export', 'ALLOW_EXPORT'],
    ['logs', 'ALLOW_LOGS'],
  ] as const) {
    if (matches(container + sub) && !on(flag)) return false;
  }
  const granted: [string, string][] = [
    [container + '((stop)|(restart)|(kill))', 'ALLOW_RESTARTS'],
    [container + 'start', 'ALLOW_START'],
    [container + 'stop', 'ALLOW_STOP'],
    [container + 'pause', 'ALLOW_PAUSE'],
    [container + 'unpause', 'ALLOW_UNPAUSE'],
    ...['auth', 'build', 'commit', 'configs', 'containers', 'distribution', 'events', 'exec', 'grpc', 'images', 'info', 'networks']
      .concat(['nodes', '_ping', 'plugins', 'secrets', 'services', 'session', 'swarm', 'system', 'tasks', 'version', 'volumes'])
      .map((section): [string, string] => [`/${section}`, section === '_ping' ? 'PING' : section.toUpperCase()]),
  ];
  return granted.some(([re, flag]) => matches(re) && on(flag));
}

describe('through a socket proxy with the socket-proxy profile’s permissions', () => {
  const seen: { method: string; path: string; allowed: boolean }[] = [];
  let proxy: Server;
  let t: TestApp;

  beforeAll(async () => {
    const compose = parse(readFileSync(join(import.meta.dirname, '..', '..', 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    // The image's defaults, then what the compose file sets.
    const env = { EVENTS: '1', PING: '1', VERSION: '1', ...compose.services['docker-proxy']?.environment };
    proxy = createServer((req, res) => {
      const allowed = socketProxyAllows(env, req.method ?? 'GET', req.url ?? '/');
      seen.push({ method: req.method ?? '', path: req.url ?? '', allowed });
      if (!allowed) {
        res.writeHead(403, { 'content-type': 'text/html' }).end('<html><body><h1>403 Forbidden</h1></body></html>');
        return;
      }
      const upstream = httpRequest(
        { socketPath: '/var/run/docker.sock', method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
  });

  afterAll(async () => {
    await t?.close();
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  });

  it('when a person signs up, restarts and looks at the dashboard, then every Docker call Spawner makes is allowed', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'proxied' }), '/dashboard');
    const { user, info } = await containerOf(t, 'proxied');
    expect(info.State.Running).toBe(true);
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/container/restart').type('form').send({ _csrf: token }), '/dashboard');
    expect((await agent.get('/dashboard')).text).toContain('data-state="running"');
    await t.services.containers.stop(user);
    expect((await t.services.containers.ensureRunning(user)).state).toBe('running');
    await t.services.containers.pause(user);
    expect((await t.services.containers.ensureRunning(user)).state).toBe('running');
    expect((await t.services.containers.listManaged()).length).toBeGreaterThan(0);
    expect((await request(t.app).get('/health')).body.checks.docker).toBe('ok');
    await t.services.containers.remove(user, { data: true });

    expect(seen.filter((s) => !s.allowed)).toEqual([]);
    const calls = new Set(
      seen.map(
        (s) =>
          `${s.method} ${s.path
            .split('?')[0]!
            .replace(/[0-9a-f]{64}/g, '<id>')
            .replace(/\/t[0-9a-f]{6}-[^/]+/, '/<name>')}`,
      ),
    );
    console.info(`Docker API calls through the proxy:\n  ${[...calls].sort().join('\n  ')}`);
  });

  it('when something outside those sections is asked, then the proxy refuses it (the filter is real)', async () => {
    const [probe] = await t.services.containers.listManaged();
    const ask = (method: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const address = proxy.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        httpRequest({ host: '127.0.0.1', port, method, path }, (res) => (res.resume(), resolve(res.statusCode ?? 0)))
          .on('error', reject)
          .end();
      });
    expect(await ask('GET', '/info')).toBe(403);
    expect(await ask('POST', '/build')).toBe(403);
    expect(await ask('POST', `/containers/${probe?.id ?? 'x'}/exec`)).toBe(403);
    expect(await ask('GET', '/containers/json')).toBe(200);
  });
});
