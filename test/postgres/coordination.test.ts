// The replicas' coordination on a real PostgreSQL server, two "replicas" in one test process
// (each its own pools and connections, as two processes would have): a person's lock excludes
// the other replica's work for the same person and only for that person, and exactly one of
// them leads until it steps down or its connection dies.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { pgCoordination } from '../../src/coordination/pg.js';
import { createLogger } from '../../src/logger.js';
import { adminQuery, dropTestDatabase, testDatabaseUrl } from '../helpers/postgres.js';

const runId = inject('runId');
const database = `spawner_t_${runId}_coordination`;
const logger = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let url: string;
const opened: ReturnType<typeof pgCoordination>[] = [];

function replica() {
  const coordination = pgCoordination(url, logger, { leaderRetryMs: 100 });
  opened.push(coordination);
  return coordination;
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
}

beforeAll(async () => {
  await adminQuery(`CREATE DATABASE "${database}"`);
  url = testDatabaseUrl(database);
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await dropTestDatabase(database);
});

it('when two replicas run work for the same person at once, then it runs one at a time, and another person is not held up', async () => {
  const [one, two] = [replica(), replica()];
  let inside = 0;
  let most = 0;
  const work = async () => {
    inside += 1;
    most = Math.max(most, inside);
    await sleep(100);
    inside -= 1;
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? one : two).personLock.run(7, work)));
  expect(most).toBe(1);
  expect(Date.now() - started).toBeGreaterThanOrEqual(600);

  // Different people: both run together.
  let together = 0;
  let overlap = 0;
  const other = async () => {
    together += 1;
    overlap = Math.max(overlap, together);
    await sleep(200);
    together -= 1;
  };
  await Promise.all([one.personLock.run(1, other), two.personLock.run(2, other)]);
  expect(overlap).toBe(2);
});

it('when work fails, then the lock is given back and the error reaches the caller', async () => {
  const [one, two] = [replica(), replica()];
  await expect(one.personLock.run(9, () => Promise.reject(new Error('docker said no')))).rejects.toThrow('docker said no');
  await expect(two.personLock.run(9, async () => 'next')).resolves.toBe('next');
});

it('when three replicas compete, then exactly one leads; when it steps down, another leads', async () => {
  const replicas = [replica(), replica(), replica()];
  for (const r of replicas) r.leadership.start();
  const leaders = () => replicas.filter((r) => r.leadership.isLeader());
  await until(() => leaders().length === 1, 5000);
  // Several retry periods later still exactly one.
  await sleep(500);
  expect(leaders()).toHaveLength(1);
  const first = leaders()[0]!;
  await first.leadership.stop();
  await until(() => leaders().length === 1 && leaders()[0] !== first, 5000);
  expect(first.leadership.isLeader()).toBe(false);
  await Promise.all(replicas.map((r) => r.close()));
});

it("when the leader's connection is killed by the server, then it steps down and another replica leads", async () => {
  const replicas = [replica(), replica()];
  const changes: boolean[][] = [[], []];
  replicas.forEach((r, i) => r.leadership.onChange((leader) => changes[i]!.push(leader)));
  for (const r of replicas) r.leadership.start();
  await until(() => replicas.some((r) => r.leadership.isLeader()), 5000);
  const leaderIndex = replicas.findIndex((r) => r.leadership.isLeader());
  // Every connection holding the leader lock on this database goes (as when the network drops).
  await adminQuery(
    `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = ${0x5350_4c01} AND objsubid = 1` +
      ` AND database = (SELECT oid FROM pg_database WHERE datname = '${database}')`,
  );
  await until(() => replicas[1 - leaderIndex]!.leadership.isLeader(), 5000);
  expect(changes[leaderIndex]).toEqual([true, false]);
});
