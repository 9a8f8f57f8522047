// The Docker backend's own verbs on the real engine, beyond what the manager's tests cover: the
// log stream (demultiplexed lines, tail, follow, abort), the event stream of managed containers,
// a create that leaves nothing behind when the image or network is missing, and the Traefik
// nudge's own tiny image (loaded by Spawner, not a person's template).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { BackendEvent } from '../../src/containers/backend.js';
import { DockerBackend } from '../../src/containers/docker/backend.js';
import { createDockerClient, DockerodeEngine } from '../../src/containers/docker/engine.js';
import { TraefikNudge } from '../../src/containers/docker/nudge.js';
import { NUDGE_IMAGE_TAG } from '../../src/containers/docker/nudgeImage.js';
import { planFromConfig, type WorkloadPlan } from '../../src/containers/plan.js';
import { ContainerError } from '../../src/errors.js';
import { testEnv } from '../helpers/app.js';
import { createTestNetwork, dockerClient, removeTestResources, scopeLabels } from '../helpers/docker.js';

const runId = inject('runId');
const FILE = 'docker-backend';
const docker = dockerClient();
let config: Readonly<Config>;
let backend: DockerBackend;
let engine: DockerodeEngine;
const logger = createLogger({ level: 'silent' });

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function planOf(id: number, username: string, command?: string[]): WorkloadPlan {
  return { ...planFromConfig(config, { id, username }), ...(command ? { command } : {}) };
}

async function read(stream: NodeJS.ReadableStream): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of stream) lines.push(String(line));
  return lines;
}

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`, FILE);
  config = loadConfig(testEnv({ TRAEFIK_NETWORK: network, CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE) }));
  engine = new DockerodeEngine(createDockerClient(config.docker));
  backend = new DockerBackend(engine, network, logger);
});

afterAll(() => removeTestResources(runId, FILE));

describe('create, inspect, list', () => {
  it('when a plan is created and started, then it runs with its fingerprint, is listed as the person’s, and has an address on the network', async () => {
    const plan = planOf(1, 'ada');
    expect((await backend.inspect(plan.name)).phase).toBe('missing');
    await backend.create(plan);
    await backend.create(plan); // idempotent
    await backend.start(plan.name);
    const status = await backend.inspect(plan.name);
    expect(status).toMatchObject({ phase: 'running', state: 'running', name: plan.name, specHash: await backend.fingerprint(plan) });
    const listed = (await backend.list()).find((w) => w.name === plan.name);
    expect(listed).toEqual({ id: status.id, name: plan.name, userId: 1, username: 'ada', state: 'running', specHash: status.specHash });
    const address = await backend.address(plan.name);
    expect(address?.port).toBe(plan.port);
    expect(address?.host).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('when the image or the network is missing, then create is a ContainerError and leaves no container and no volume', async () => {
    const noImage = { ...planOf(2, 'bea'), image: 'spawner-test-no-such-image:never' };
    await expect(backend.create(noImage)).rejects.toBeInstanceOf(ContainerError);
    const noNetwork = { ...planOf(3, 'cai'), network: `spawner-test-${runId}-absent` };
    await expect(backend.create(noNetwork)).rejects.toThrow(/network/);
    for (const plan of [noImage, noNetwork]) {
      expect((await backend.inspect(plan.name)).phase).toBe('missing');
      await expect(docker.getVolume(plan.volume).inspect()).rejects.toMatchObject({ statusCode: 404 });
    }
  });
});

describe('logs', () => {
  // The live line waits for the test's go: a file the test creates with an exec.
  const script =
    'echo one; echo two >&2; echo three; echo four; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo live-line; exec sleep 300';
  let plan: WorkloadPlan;

  beforeAll(async () => {
    plan = planOf(4, 'dee', ['sh', '-c', script]);
    await backend.create(plan);
    await backend.start(plan.name);
  });

  it('when the logs are read, then stdout and stderr come as plain lines in order, and tail keeps only the last ones', async () => {
    let lines: string[] = [];
    for (let i = 0; i < 100 && lines.length < 4; i++) {
      lines = await read(await backend.logs(plan.name, {}));
      if (lines.length < 4) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // stdout keeps its order; stderr is another pipe, so only its presence is certain.
    expect(lines.filter((line) => line !== 'two')).toEqual(['one', 'three', 'four']);
    expect(lines).toContain('two');
    expect(await read(await backend.logs(plan.name, { tail: 1 }))).toHaveLength(1);
  });

  it('when the logs are followed, then a new line arrives as it is written, and aborting ends the stream', async () => {
    const abort = new AbortController();
    const stream = await backend.logs(plan.name, { follow: true, tail: 0, signal: abort.signal });
    const seen: string[] = [];
    stream.on('data', (line: string) => seen.push(line));
    const ended = new Promise<void>((resolve) => stream.on('close', () => resolve()));
    const exec = await docker.getContainer(plan.name).exec({ Cmd: ['touch', '/tmp/go'] });
    await exec.start({ Detach: true });
    await until(() => seen.includes('live-line'), 'the followed line');
    abort.abort();
    await ended;
  });
});

describe('watch', () => {
  it('when a managed container is paused, unpaused, stopped and started, then each is reported in order with its person', async () => {
    const plan = planOf(5, 'eve');
    await backend.create(plan);
    const events: BackendEvent[] = [];
    const stop = backend.watch((event) => {
      if (event.name === plan.name) events.push(event);
    });
    try {
      // The subscription is live once an event of ours comes through.
      await backend.start(plan.name);
      await until(() => events.some((e) => e.action === 'start'), 'the start event');
      await backend.pause(plan.name);
      await backend.unpause(plan.name);
      await backend.stop(plan.name, 0);
      await backend.start(plan.name);
      await until(() => events.filter((e) => e.action === 'start').length === 2, 'the second start');
      // Health reports of the test image's HEALTHCHECK may fall in between (when the machine is busy).
      const actions = events.map((e) => e.action).filter((a) => a !== 'health_status');
      expect(actions.slice(actions.indexOf('pause'))).toEqual(['pause', 'unpause', 'die', 'stop', 'start']);
      expect(events[0]).toMatchObject({ userId: 5, username: 'eve', name: plan.name });
      expect(events[0]!.at).toBeInstanceOf(Date);
    } finally {
      stop();
    }
  });
});

describe('the Traefik nudge', () => {
  it('when Spawner nudges, then its container comes from its own tiny image, runs as nobody without a network, and Docker reports start and die', async () => {
    const nudge = new TraefikNudge(engine, config, logger);
    const stream = (await docker.getEvents({ filters: { type: ['container'], container: [nudge.name] } })) as NodeJS.ReadableStream & {
      destroy(): void;
    };
    const actions: string[] = [];
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) actions.push((JSON.parse(line) as { Action: string }).Action);
    });
    try {
      await nudge.nudge();
      await until(() => actions.includes('start') && actions.includes('die'), 'start and die of the nudge container');
    } finally {
      stream.destroy();
    }
    const info = await docker.getContainer(nudge.name).inspect();
    expect(info.Config.Image).toBe(NUDGE_IMAGE_TAG);
    expect(info.Config.User).toBe('65534:65534');
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.State.ExitCode).toBe(0);
    const image = await docker.getImage(NUDGE_IMAGE_TAG).inspect();
    expect(image.Size).toBeLessThan(1024);
  });
});
