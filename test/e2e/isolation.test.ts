// Tenants cannot reach each other on the network (issue 11 point 4), on the real engine through the
// real Traefik: people's containers share one bridge network with container-to-container traffic
// off (what Spawner insists on) and the host closed by scripts/isolate-host.sh. From bob's
// container, alice's service, Spawner's port, Traefik's web, API and metrics port, a port the host
// listens on and a port another container publishes all stay silent, while Traefik reaches alice
// and bob reaches his own service. Controls on a flat network show each probe can succeed. With
// CONTAINER_EGRESS=none (an internal network) a routed address outside is unreachable, and
// Spawner still brings the person's container up (it reaches it from the host).
// Every address probed belongs to a container or a network this file created, or to loopback.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDockerClient, DockerodeEngine } from '../../src/containers/docker/engine.js';
import { ensureNetwork } from '../../src/containers/docker/prepare.js';
import { createLogger } from '../../src/logger.js';
import { containerOf } from '../helpers/app.js';
import { createTestNetwork, dockerClient, testLabels } from '../helpers/docker.js';
import { startBothModes, type BothModes } from '../helpers/e2eSetup.js';
import { execIn } from '../helpers/exec.js';
import { FormClient } from '../helpers/formClient.js';
import { freePort } from '../helpers/ports.js';
import { ProxyClient } from '../helpers/proxyClient.js';
import { startSpawner, type RunningSpawner } from '../helpers/spawnerServer.js';
import { TEST_IMAGE } from '../helpers/testImage.js';
import { viaTraefik } from '../helpers/traefik.js';
import { routerEnabled } from '../helpers/traefikChecks.js';

const runId = inject('runId');
const docker = dockerClient();
const FILE = 'isolation';
const SUB = 'isolation.test';
const ISOLATE = join(import.meta.dirname, '..', '..', 'scripts', 'isolate-host.sh');
// RFC 2544's benchmarking range: routed nowhere, so it stands for "the outside" here.
const OUTSIDE = { host: '198.18.77.1', target: '198.18.77.2' };
/** A status line of a 200, from busybox httpd (HTTP/1.1) or the host listener (HTTP/1.0). */
const ANSWERED = /^HTTP\/1\.[01] 200 OK$/;
const veth = { host: `spw${runId.slice(0, 6)}h`, peer: `spw${runId.slice(0, 6)}c` };

let both: BothModes;
let flatNetwork: string;
let internalNetwork: string;
let egressNone: RunningSpawner | undefined;
let hostListener: Server;
let hostPort: number;
let publishedPort: number;

/** Runs a program on the host (ip, nsenter, the isolation script); its output, or a thrown error with it. */
function host(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

async function addressOf(container: string): Promise<{ ip: string; gateway: string }> {
  const networks = (await docker.getContainer(container).inspect()).NetworkSettings.Networks;
  const [settings] = Object.values(networks);
  return { ip: settings!.IPAddress, gateway: settings!.Gateway };
}

/** One HTTP GET from inside a container with busybox nc (2 s bound): the status line, or '' for no answer. */
async function probe(container: string, ip: string, port: number): Promise<string> {
  const request = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} ${port} | head -n 1`;
  return (await execIn(container, ['sh', '-c', request])).stdout.trim();
}

/** A busybox container outside Spawner, labelled as this file's. */
async function plainContainer(name: string, network: string, publish?: number): Promise<string> {
  const container = await docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Labels: testLabels(runId, FILE),
    HostConfig: {
      NetworkMode: network,
      ...(publish ? { PortBindings: { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: String(publish) }] } } : {}),
    },
    ...(publish ? { ExposedPorts: { '8080/tcp': {} } } : {}),
  });
  await container.start();
  return name;
}

/**
 * "The outside": a container with no Docker network at all, given a veth to the host with an
 * address in 198.18.77.0/30, so the host routes to it like to any address beyond its own networks.
 */
async function outsideContainer(): Promise<void> {
  const name = await plainContainer(`spawner-test-${runId}-outside`, 'none');
  const pid = String((await docker.getContainer(name).inspect()).State.Pid);
  host('ip', ['link', 'add', veth.host, 'type', 'veth', 'peer', 'name', veth.peer]);
  host('ip', ['link', 'set', veth.peer, 'netns', pid]);
  host('nsenter', ['-t', pid, '-n', 'ip', 'addr', 'add', `${OUTSIDE.target}/30`, 'dev', veth.peer]);
  host('nsenter', ['-t', pid, '-n', 'ip', 'link', 'set', veth.peer, 'up']);
  host('nsenter', ['-t', pid, '-n', 'ip', 'route', 'add', 'default', 'via', OUTSIDE.host]);
  host('ip', ['addr', 'add', `${OUTSIDE.host}/30`, 'dev', veth.host]);
  host('ip', ['link', 'set', veth.host, 'up']);
}

beforeAll(async () => {
  both = await startBothModes(runId, FILE, {
    domains: { sub: SUB, path: 'isolation-path.test' },
    spawnerEnv: { USER_TEMPLATE_IMAGE: TEST_IMAGE, SERVICE_ACCESS: 'public' },
  });
  host('bash', [ISOLATE, both.network]);
  flatNetwork = await createTestNetwork(runId, `spawner-test-${runId}-flat`, FILE, { flat: true });
  internalNetwork = await createTestNetwork(runId, `spawner-test-${runId}-internal`, FILE, { internal: true });
  hostPort = await freePort();
  hostListener = createServer((socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nhost\n'));
  // 0.0.0.0 on purpose: a service on the host that listens everywhere, as sshd or a database might.
  await new Promise<void>((resolve) => hostListener.listen(hostPort, '0.0.0.0', resolve));
  publishedPort = await freePort();
  await plainContainer(`spawner-test-${runId}-published`, flatNetwork, publishedPort);
  await plainContainer(`spawner-test-${runId}-flat-a`, flatNetwork);
  await plainContainer(`spawner-test-${runId}-flat-b`, flatNetwork);
  await outsideContainer();
  for (const name of ['alice', 'bob']) {
    const session = new ProxyClient(both.traefik, `spawner.${SUB}`);
    expect((await session.signUp(name)).status).toBe(303);
    await routerEnabled(both.traefik, `${(await containerOf(both.sub, name)).name}@docker`);
  }
}, 180_000);

afterAll(async () => {
  hostListener?.close();
  await egressNone?.stop();
  try {
    host('bash', [ISOLATE, '--remove', both.network]);
  } catch {
    // The network never existed: nothing was added.
  }
  try {
    host('ip', ['link', 'del', veth.host]);
  } catch {
    // Gone with the outside container's namespace, or never made.
  }
  await both?.stop();
}, 120_000);

describe('people on the isolated network', () => {
  it('when Traefik routes to alice, then it reaches her, and bob reaches his own service', async () => {
    const page = await viaTraefik(both.traefik, `alice.${SUB}`, '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Hello alice');
    const bob = (await containerOf(both.sub, 'bob')).name;
    expect(await probe(bob, (await addressOf(bob)).ip, 8080)).toMatch(ANSWERED);
  });

  it("when bob's container opens alice's service, Spawner, Traefik, the host or a published port, then nothing answers", async () => {
    const bob = (await containerOf(both.sub, 'bob')).name;
    const alice = await addressOf((await containerOf(both.sub, 'alice')).name);
    const { gateway } = await addressOf(bob);
    const apiPort = Number(new URL(both.traefik.api).port);
    const targets: [string, string, number][] = [
      ["alice's service", alice.ip, 8080],
      ["Spawner's port", gateway, both.sub.port],
      ["Traefik's web entrypoint", gateway, both.traefik.webPort],
      ["Traefik's API and metrics", gateway, apiPort],
      ['a port the host listens on at 0.0.0.0', gateway, hostPort],
      ['a port another container publishes', gateway, publishedPort],
    ];
    for (const [what, ip, port] of targets) expect(await probe(bob, ip, port), what).toBe('');
  });

  it('when the same probes run on a flat network without the host rules, then they are answered (the controls)', async () => {
    const a = `spawner-test-${runId}-flat-a`;
    const b = await addressOf(`spawner-test-${runId}-flat-b`);
    expect(await probe(a, b.ip, 8080)).toMatch(ANSWERED);
    expect(await probe(a, b.gateway, hostPort)).toMatch(ANSWERED);
    expect(await probe(a, b.gateway, publishedPort)).toMatch(ANSWERED);
  });

  it('when egress is open, then an address outside is reachable from a person’s container', async () => {
    const bob = (await containerOf(both.sub, 'bob')).name;
    expect(await probe(bob, OUTSIDE.target, 8080)).toMatch(ANSWERED);
  });
});

describe('the network Spawner creates', () => {
  it('when it is missing at start, then it is created isolated, with the CONTAINER_SUBNET block, and accepted on the next start', async () => {
    const name = `spawner-test-${runId}-created`;
    const engine = new DockerodeEngine(createDockerClient({ socketPath: '/var/run/docker.sock', host: undefined, timeoutMs: 10_000 }));
    const policy = { isolated: true, egress: 'open' as const, subnet: '10.214.0.0/20' };
    const logger = createLogger({ level: 'silent' });
    try {
      expect(await ensureNetwork(engine, name, logger, testLabels(runId, FILE), policy)).toEqual({ outcome: 'created' });
      const info = await docker.getNetwork(name).inspect();
      expect(info.Options).toMatchObject({ 'com.docker.network.bridge.enable_icc': 'false' });
      expect(info.IPAM?.Config).toEqual([expect.objectContaining({ Subnet: '10.214.0.0/20' })]);
      expect(await ensureNetwork(engine, name, logger, {}, policy)).toEqual({ outcome: 'present' });
      // The same network is refused when egress is to be none: it is not internal.
      expect((await ensureNetwork(engine, name, logger, {}, { ...policy, egress: 'none' })).outcome).toBe('unsafe');
    } finally {
      await docker
        .getNetwork(name)
        .remove()
        .catch(() => undefined);
    }
  });
});

describe('CONTAINER_EGRESS=none', () => {
  it('when carol’s container runs on the internal network, then Spawner brings it up and nothing outside answers', async () => {
    egressNone = await startSpawner({
      runId,
      port: await freePort(),
      env: { TRAEFIK_NETWORK: internalNetwork, CONTAINER_EGRESS: 'none', USER_TEMPLATE_IMAGE: TEST_IMAGE, BASE_DOMAIN: 'egress.test' },
    });
    const session = new FormClient(`http://127.0.0.1:${egressNone.port}`);
    expect((await session.signUp('carol')).status).toBe(303);
    const carol = (await containerOf(egressNone, 'carol')).name;
    const info = await docker.getContainer(carol).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([internalNetwork]);
    expect((await docker.getNetwork(internalNetwork).inspect()).Internal).toBe(true);
    // Spawner reached it from the host: the dashboard says running.
    expect((await session.get('/dashboard')).text).toContain('data-state="running"');
    expect(await probe(carol, OUTSIDE.target, 8080)).toBe('');
    expect(await probe(carol, (await addressOf(carol)).ip, 8080)).toMatch(ANSWERED);
  });
});
