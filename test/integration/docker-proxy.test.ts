// Spawner's own Docker API proxy (src/dockerProxy/) on a loopback port in front of the real engine,
// with Spawner's real Docker backend behind DOCKER_HOST=tcp://127.0.0.1:<port>: a person's whole
// life (signup, restart, stop, wake, pause with the Traefik nudge, delete) passes without one
// refusal; logs, events and the connection probe's exec (an HTTP upgrade) stream through; and raw
// hostile requests (a privileged create, a host bind, another exec, a retagging image load) get 403
// while the engine shows that nothing was created. Everything made here carries the run's label.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { parse } from 'yaml';
import { createLogger } from '../../src/logger.js';
import type { BackendEvent } from '../../src/containers/backend.js';
import { DockerBackend } from '../../src/containers/docker/backend.js';
import { createDockerClient, DockerodeEngine } from '../../src/containers/docker/engine.js';
import { exitExecutable, NUDGE_IMAGE_TAG, nudgeImageArchive } from '../../src/containers/docker/nudgeImage.js';
import { planFromConfig } from '../../src/containers/plan.js';
import { createDockerProxy } from '../../src/dockerProxy/server.js';
import { PROBE_COMMAND } from '../../src/dockerProxy/resourceBodies.js';
import { buildTestApp, uniquePrefix, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient, removeTestResources, scopeLabels, TEST_FILE_LABEL, TEST_RUN_LABEL } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, signUp } from '../helpers/http.js';
import { TEST_IMAGE } from '../helpers/testImage.js';
import { execIn } from '../helpers/exec.js';

const runId = inject('runId');
const FILE = 'docker-proxy';
const docker = dockerClient();
const prefix = uniquePrefix();
const refusals: { method: string; path: string; reason: string }[] = [];
let proxy: Server;
let port = 0;
let network: string;
let t: TestApp;

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** One raw request through the proxy. */
function ask(method: string, path: string, body?: unknown): Promise<{ status: number; json: { message?: string } | null }> {
  const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        timeout: 10_000,
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let json = null;
          try {
            json = JSON.parse(text) as { message?: string };
          } catch {
            // not JSON (e.g. an empty 204)
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** A create body exactly as hardened as Spawner's, labelled as this file's, for the raw requests. */
function hardenedCreate(changes: Record<string, unknown> = {}) {
  return {
    Image: TEST_IMAGE,
    User: '1000:1000',
    Labels: { 'spawner.managed': 'true', [TEST_RUN_LABEL]: runId, [TEST_FILE_LABEL]: FILE },
    HostConfig: {
      NetworkMode: network,
      Memory: 64 * 1024 * 1024,
      PidsLimit: 64,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      ...changes,
    },
  };
}

async function containersNamed(name: string) {
  return docker.listContainers({ all: true, filters: { name: [name] } });
}

beforeAll(async () => {
  network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`, FILE);
  const logger = createLogger({
    level: 'info',
    destination: {
      write(line: string) {
        const entry = JSON.parse(line) as { msg?: string; method: string; path: string; reason: string };
        if (entry.msg === 'refused a Docker API request') refusals.push({ method: entry.method, path: entry.path, reason: entry.reason });
      },
    },
  });
  proxy = createDockerProxy({
    rules: { allowExec: true, capAdd: [], namePrefix: prefix },
    socketPath: '/var/run/docker.sock',
    maxBodyBytes: 1024 * 1024,
    logger,
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  port = typeof address === 'object' && address ? address.port : 0;
  t = buildTestApp({
    runId,
    env: {
      TRAEFIK_NETWORK: network,
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      CONTAINER_NAME_PREFIX: prefix,
      CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE),
    },
  });
});

afterAll(async () => {
  await t?.close();
  proxy?.closeAllConnections();
  if (proxy) await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await removeTestResources(runId, FILE);
});

describe("Spawner's Docker backend through the proxy", () => {
  it('when a person signs up, restarts, stops, wakes, pauses (with the nudge) and looks, then every call is allowed', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'proxied' }), '/dashboard');
    const user = (await t.services.users.findByUsername('proxied'))!;
    const info = await docker.getContainer(`${prefix}-proxied-${user.id}`).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Id).toBe(user.containerId);
    expect(info.HostConfig.Privileged).toBe(false);
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/container/restart').type('form').send({ _csrf: token }), '/dashboard');
    expect((await agent.get('/dashboard')).text).toContain('data-state="running"');
    await t.services.containers.stop(user);
    expect((await t.services.containers.ensureRunning(user)).state).toBe('running');
    await t.services.containers.pause(user);
    await t.services.nudge.nudge();
    expect((await docker.getContainer(`${prefix}-traefik-nudge`).inspect()).Config.Labels).toMatchObject({ 'spawner.nudge': 'true' });
    expect((await t.services.containers.ensureRunning(user)).state).toBe('running');
    expect((await t.services.containers.listManaged()).map((w) => w.name)).toContain(info.Name.slice(1));
    expect((await request(t.app).get('/health')).body.checks.docker).toBe('ok');
    expect(refusals).toEqual([]);
  });

  it('when a workload is created, started and its logs followed and events watched, then all of it streams through', async () => {
    const engine = new DockerodeEngine(createDockerClient({ host: `tcp://127.0.0.1:${port}`, socketPath: '', timeoutMs: 10_000 }));
    const backend = new DockerBackend(engine, network, createLogger({ level: 'silent' }));
    // The live line waits for the test's go: a file the test creates with an exec (straight to the socket).
    const script = 'echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo live-line; exec sleep 300';
    const plan = { ...planFromConfig(t.config, { id: 900, username: 'logger' }), command: ['sh', '-c', script] };
    const events: BackendEvent[] = [];
    const stopWatching = backend.watch((event) => {
      if (event.name === plan.name) events.push(event);
    });
    const abort = new AbortController();
    try {
      await backend.create(plan);
      await backend.start(plan.name);
      await until(() => events.some((e) => e.action === 'start'), 'the start event');
      const lines: string[] = [];
      const followed = await backend.logs(plan.name, { follow: true, tail: 0, signal: abort.signal });
      followed.on('data', (line: string) => lines.push(line));
      await execIn(plan.name, ['touch', '/tmp/go']);
      await until(() => lines.includes('live-line'), 'the followed line');
      const past: string[] = [];
      for await (const line of await backend.logs(plan.name, {})) past.push(String(line));
      expect(past).toEqual(['first', 'live-line']);
    } finally {
      abort.abort();
      stopWatching();
    }
    expect(refusals).toEqual([]);
  });

  it('when the connection probe runs its exec, then the upgraded stream comes back through the proxy', async () => {
    const engine = new DockerodeEngine(createDockerClient({ host: `tcp://127.0.0.1:${port}`, socketPath: '', timeoutMs: 10_000 }));
    const name = (await t.services.users.findByUsername('proxied'))!.containerName!;
    const result = await engine.exec(name, [...PROBE_COMMAND], 5_000);
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain('local_address');
    const backend = new DockerBackend(engine, network, createLogger({ level: 'silent' }));
    expect(['quiet', 'unknown', 'in-use']).toContain(await backend.probeUse(name, 8080));
    expect(refusals).toEqual([]);
  });
});

describe('hostile requests through the proxy', () => {
  it('when the same hardened create is sent raw, then it is allowed (the refusals below are about the one change)', async () => {
    const name = `${prefix}-control-1`;
    const answer = await ask('POST', `/containers/create?name=${name}`, hardenedCreate());
    expect(answer.status, answer.json?.message).toBe(201);
    await docker.getContainer(name).remove({ force: true });
  });

  it.each([
    ['privileged', { Privileged: true }, /privileged containers are refused/],
    ['Binds: ["/:/host"]', { Binds: ['/:/host'] }, /bind mounts \(HostConfig.Binds\) are refused/],
    ['a bind Mounts entry', { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }, /mounts of type bind are refused/],
    ['the host PID namespace', { PidMode: 'host' }, /PidMode not allowed/],
  ])('when a create asks for %s, then the proxy answers 403 and the engine has no such container', async (what, change, reason) => {
    const name = `${prefix}-evil-${what.length}`;
    const answer = await ask('POST', `/v1.41/containers/create?name=${name}`, hardenedCreate(change));
    expect(answer.status).toBe(403);
    expect(answer.json?.message).toMatch(reason);
    expect(await containersNamed(name)).toEqual([]);
    expect(refusals.at(-1)).toMatchObject({ method: 'POST', path: '/v1.41/containers/create' });
  });

  it('when an exec of another command is asked, then 403 and the container never ran it', async () => {
    const name = (await t.services.users.findByUsername('proxied'))!.containerName!;
    const answer = await ask('POST', `/containers/${name}/exec`, { Cmd: ['sh', '-c', 'touch /tmp/owned'], AttachStdout: true });
    expect(answer.status).toBe(403);
    expect(answer.json?.message).toMatch(/only the connection probe's exec/);
    expect((await execIn(name, ['test', '-e', '/tmp/owned'])).exitCode).toBe(1);
  });

  it('when an image load would retag the template, then 403 and the engine has no such image', async () => {
    const archive = nudgeImageArchive(exitExecutable('amd64')!, 'amd64', { [TEST_RUN_LABEL]: runId });
    const tag = `t${runId.slice(0, 12).padEnd(12, '0')}:1`.slice(0, NUDGE_IMAGE_TAG.length);
    expect(tag).toHaveLength(NUDGE_IMAGE_TAG.length);
    const retagged = Buffer.from(archive.toString('latin1').replace(NUDGE_IMAGE_TAG, tag), 'latin1');
    const answer = await ask('POST', '/images/load?quiet=1', retagged);
    expect(answer.status).toBe(403);
    expect(answer.json?.message).toMatch(/tags not allowed/);
    await expect(docker.getImage(tag).inspect()).rejects.toMatchObject({ statusCode: 404 });
    // The nudge's own archive, byte for byte as Spawner builds it, loads (again: it is the same image).
    const nudge = nudgeImageArchive(exitExecutable('amd64')!, 'amd64', { 'spawner.nudge': 'true' });
    expect((await ask('POST', '/images/load?quiet=1', nudge)).status).toBe(200);
  });

  it('when other sections are asked, then 403, while the list of containers is allowed', async () => {
    expect((await ask('GET', '/info')).status).toBe(403);
    expect((await ask('POST', '/build')).status).toBe(403);
    expect((await ask('POST', '/images/create?fromImage=alpine')).status).toBe(403);
    expect((await ask('GET', '/containers/json')).status).toBe(200);
    // Bodies: not JSON, or larger than the cap, are a 400 before anything reaches Docker.
    expect((await ask('POST', `/containers/create?name=${prefix}-junk-1`, Buffer.from('{"Image": '))).status).toBe(400);
    const huge = hardenedCreate({ ExtraHosts: Array.from({ length: 100_000 }, (_, i) => `h${i}:127.0.0.1`) });
    expect((await ask('POST', `/containers/create?name=${prefix}-junk-2`, huge)).status).toBe(400);
    expect(await containersNamed(`${prefix}-junk-`)).toEqual([]);
    expect(refusals.find((r) => r.path === '/info')).toMatchObject({ method: 'GET', reason: expect.stringMatching(/not an API call/) });
  });

  it('when the person deletes the account through Spawner, then removal of container and volume passes too', async () => {
    const user = (await t.services.users.findByUsername('proxied'))!;
    const before = refusals.length;
    await t.services.containers.remove(user, { data: true });
    expect(await containersNamed(user.containerName!)).toEqual([]);
    expect(refusals.slice(before)).toEqual([]);
  });
});

describe('the compose file runs this proxy', () => {
  it('when the socket-proxy profile is read, then it runs main.js from Spawner’s image with no network, reached through a socket file only Spawner shares', () => {
    type Service = { image?: string; command?: string[]; volumes?: string[]; network_mode?: string; environment?: Record<string, string> };
    const compose = parse(readFileSync(join(import.meta.dirname, '..', '..', 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, Service>;
    };
    const proxyService = compose.services['docker-proxy']!;
    const spawner = compose.services.spawner!;
    expect(proxyService.image).toBe(spawner.image);
    expect(proxyService.command).toEqual(['node', 'dist/src/dockerProxy/main.js']);
    expect(proxyService.volumes).toEqual(['/var/run/docker.sock:/var/run/docker.sock', 'docker-proxy-socket:/run/spawner-docker-proxy']);
    expect(proxyService.network_mode).toBe('none');
    expect(proxyService.environment?.DOCKER_PROXY_LISTEN).toBe('unix:///run/spawner-docker-proxy/docker.sock');
    expect(spawner.volumes).toContain('docker-proxy-socket:/run/spawner-docker-proxy');
    // Which services mount the socket volume: only these two.
    const sharing = Object.entries(compose.services).filter(([, s]) => (s.volumes ?? []).some((v) => v.startsWith('docker-proxy-socket:')));
    expect(sharing.map(([name]) => name).sort()).toEqual(['docker-proxy', 'spawner']);
  });
});
