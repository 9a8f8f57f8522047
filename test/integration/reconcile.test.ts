// Reconcile on start, against the real engine: stored ids that changed are corrected, containers
// of deleted accounts are reported and left running, other Spawners' containers are left alone,
// Docker being down does not stop start-up, and 1000 accounts take one list call and well under 2 s.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient, TEST_RUN_LABEL } from '../helpers/docker.js';
import { TEST_IMAGE } from '../helpers/testImage.js';
import { createLogger } from '../../src/logger.js';
import { reconcileContainers, reconcileOnStart, type ReconcileDeps } from '../../src/lifecycle/reconcile.js';

const runId = inject('runId');
const docker = dockerClient();
let network: string;
let t: TestApp;

/** A logger whose JSON lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

function depsOf(app: TestApp, logger = app.services.logger): ReconcileDeps {
  return { containers: app.services.containers, users: app.services.users, database: app.database, config: app.config, logger };
}

function createUser(app: TestApp, username: string) {
  return app.services.users.create({ username, email: `${username}@example.com`, passwordHash: 'x' });
}

/** Runs `work` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

beforeAll(async () => {
  network = await createTestNetwork(runId, `spawner-test-${runId}-reconcile`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network } });
});

afterAll(() => t?.close());

describe('reconcile on start', () => {
  it('when a container was recreated behind Spawner’s back, then reconcile stores the new id and name', async () => {
    const alice = await createUser(t, 'alice');
    const first = await t.services.containers.ensureRunning(alice);
    // Replace it by hand with an identical container: same name and labels, new id.
    const old = await docker.getContainer(first.id!).inspect();
    await docker.getContainer(first.id!).remove({ force: true });
    const replacement = await docker.createContainer({
      name: old.Name.replace(/^\//, ''),
      Image: old.Config.Image,
      Labels: old.Config.Labels,
      HostConfig: { NetworkMode: network },
    });
    await replacement.start();
    expect((await t.services.users.findById(alice.id))?.containerId).toBe(first.id);

    const report = await reconcileContainers(depsOf(t));

    expect(report.updated).toBe(1);
    expect(report.matched).toBe(1);
    expect(report.orphans).toEqual([]);
    expect(await t.services.users.findById(alice.id)).toMatchObject({ containerId: replacement.id, containerName: first.name });
    // A second run finds nothing left to correct.
    expect((await reconcileContainers(depsOf(t))).updated).toBe(0);
  });

  it('when a container’s account no longer exists, then reconcile logs it and leaves the container running', async () => {
    const bob = await createUser(t, 'bob');
    const status = await t.services.containers.ensureRunning(bob);
    await t.services.users.delete(bob.id);
    const { logger, lines } = capturingLogger();

    const report = await reconcileOnStart(depsOf(t, logger));

    expect(report?.orphans).toEqual([{ name: status.name, id: status.id, userId: bob.id, username: 'bob', state: 'running' }]);
    const warning = lines.find((l) => l.level === 40 && l.container === status.name);
    expect(warning?.msg).toContain('no longer exists; left in place');
    expect(lines.find((l) => l.msg === 'reconciled containers with the database')).toMatchObject({ orphans: 1, component: 'reconcile' });
    expect((await docker.getContainer(status.id!).inspect()).State.Running).toBe(true);
  });

  it('when the stored container is gone, then reconcile counts it missing and leaves the record for the next login', async () => {
    const carol = await createUser(t, 'carol');
    const status = await t.services.containers.ensureRunning(carol);
    await docker.getContainer(status.id!).remove({ force: true });

    const report = await reconcileContainers(depsOf(t));

    expect(report.missing).toBe(1);
    expect((await t.services.users.findById(carol.id))?.containerId).toBe(status.id);
  });

  it('when another Spawner’s containers share the engine, then reconcile neither claims nor reports them', async () => {
    const other = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network } });
    try {
      // Same user id as someone here, different name prefix.
      const stranger = await createUser(other, 'stranger');
      await other.services.containers.ensureRunning(stranger);
      const before = await t.services.users.all();

      const report = await reconcileContainers(depsOf(t));

      expect(report.foreign).toBeGreaterThanOrEqual(1);
      expect(report.orphans.map((o) => o.username)).not.toContain('stranger');
      expect(await t.services.users.all()).toEqual(before);
    } finally {
      await other.database.close();
    }
  });

  it('when Docker is unreachable, then reconcile logs a warning and start-up goes on', async () => {
    const offline = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TIMEOUT: '2s' } });
    try {
      const { logger, lines } = capturingLogger();
      const started = Date.now();
      await expect(reconcileOnStart(depsOf(offline, logger))).resolves.toBeNull();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(lines.find((l) => l.level === 40)?.msg).toContain('Docker is not reachable; reconcile skipped');
    } finally {
      await offline.close();
    }
  });
});

describe('reconcile at scale', () => {
  const COUNT = 1000;
  let big: TestApp;

  beforeAll(async () => {
    big = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network } });
    const prefix = big.config.containers.namePrefix;
    const people = [];
    for (let i = 0; i < COUNT; i++) people.push(await createUser(big, `p${i}`));
    // Created, not started: what reconcile reads is the list, whatever the containers' state.
    await inBatches(people, 16, (person) =>
      docker.createContainer({
        name: `${prefix}-${person.username}-${person.id}`,
        Image: TEST_IMAGE,
        Labels: {
          [TEST_RUN_LABEL]: runId,
          'spawner.managed': 'true',
          'spawner.user_id': String(person.id),
          'spawner.username': person.username,
        },
        HostConfig: { NetworkMode: 'none' },
      }),
    );
  }, 180_000);

  afterAll(async () => {
    const prefix = big?.config.containers.namePrefix;
    await big?.close();
    if (!prefix) return;
    const mine = await docker.listContainers({ all: true, filters: { label: [`${TEST_RUN_LABEL}=${runId}`], name: [`^/${prefix}-`] } });
    await inBatches(mine, 16, (c) => docker.getContainer(c.Id).remove({ force: true }));
  }, 180_000);

  it(`when ${COUNT} accounts have containers, then one list call and one transaction store them all in well under 2 s`, async () => {
    let listCalls = 0;
    const counting = { listManaged: () => (listCalls++, big.services.containers.listManaged()) };

    const report = await reconcileContainers({ ...depsOf(big), containers: counting });

    expect(listCalls).toBe(1);
    expect(report.matched).toBe(COUNT);
    expect(report.updated).toBe(COUNT);
    expect(report.durationMs).toBeLessThan(2000);
    const stored = await big.services.users.all();
    expect(
      stored.filter((u) => u.containerId && u.containerName === `${big.config.containers.namePrefix}-${u.username}-${u.id}`),
    ).toHaveLength(COUNT);
    console.info(
      `reconcile of ${COUNT} accounts (${report.managed} managed containers on the engine): ${report.durationMs} ms, of which Docker's list ${report.dockerMs} ms`,
    );
  });
});
