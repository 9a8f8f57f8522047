// /health and /dashboard latency at a fixed request rate on loopback, with 1,000 people's
// containers running (50 in the quick run), and Spawner's resident memory with 10,000 accounts and
// its growth per further 1,000. The load is open-loop: request i is sent at start + i/rate
// whatever earlier requests do, and its latency is counted from that scheduled moment, so a slow
// answer cannot hide the queue behind it.
import { Agent } from 'node:http';
import bcrypt from 'bcrypt';
import { openSqliteStores } from '../src/db/sqlite/stores.js';
import { mapLimit, sleep, type BenchContext } from './lib/context.js';
import { httpRequest, SessionClient } from './lib/http.js';
import { SpawnerProcess } from './lib/spawner.js';
import { DbPeek } from './lib/peek.js';
import { summarize, type Summary } from './lib/stats.js';
import { signUp } from './spawn.js';

/** Requests per second for both pages (issue 10: /dashboard at 200 req/s with 1,000 containers). */
const RATE = 200;
/** Accounts for the memory row, and how many more for its growth. */
const ACCOUNTS = 10_000;
const FURTHER = 1_000;
const TARGET = { dashboardP99: 10, healthP99: 5, rssMiB: 200, growthMiB: 5 };

interface LoadResult {
  latency: Summary;
  errors: number;
  /** The slowest requests: when they were due (ms after the start) and how long they took. */
  slowest: { atMs: number; ms: number }[];
}

async function openLoop(rate: number, seconds: number, send: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const t0 = performance.now();
  const timeline: { atMs: number; ms: number }[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      send(i).then(
        (ok) => {
          if (ok) timeline.push({ atMs: Math.round(scheduled - t0), ms: performance.now() - scheduled });
          else errors++;
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const slowest = [...timeline]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 8)
    .map((x) => ({ atMs: x.atMs, ms: Math.round(x.ms * 10) / 10 }))
    .sort((a, b) => a.atMs - b.atMs);
  return { latency: summarize(timeline.map((x) => x.ms)), errors, slowest };
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

/** Accounts straight into the database through the store (no containers, no HTTP): fast. */
async function insertAccounts(dbPath: string, prefix: string, count: number, passwordHash: string): Promise<void> {
  const stores = openSqliteStores(dbPath, { busyTimeoutMs: 5000 });
  try {
    for (let i = 0; i < count; i++) {
      await stores.users.create({ username: `${prefix}${i}`, email: `${prefix}${i}@bench.test`, passwordHash });
    }
  } finally {
    await stores.close();
  }
}

export async function benchLatency(ctx: BenchContext, deps: { port: number; env: Record<string, string>; dbPath: string }): Promise<void> {
  let spawner = await SpawnerProcess.start(ctx, deps.port, deps.env);
  const people = ctx.size(1000, 50);
  const seconds = ctx.size(10, 4);
  const memory: Record<string, { rssMiB: number; peakMiB: number }> = {};
  const sample = (when: string) => {
    const m = spawner.memory();
    memory[when] = { rssMiB: mib(m.rssKiB), peakMiB: mib(m.peakKiB) };
  };
  sample('start');

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const clients = Array.from({ length: people }, () => new SessionClient('127.0.0.1', spawner.port, {}, agent));
  const t0 = Date.now();
  await mapLimit(clients, 4, (client, i) => signUp(client, `u${i}-${ctx.runId}`));
  ctx.log(`latency: ${people} accounts and containers in ${Math.round((Date.now() - t0) / 1000)} s`);
  await sleep(1000);
  sample(`${people} accounts`);

  const healthLoad = () =>
    openLoop(RATE, seconds, async () => {
      const r = await httpRequest('127.0.0.1', spawner.port, '/health', { agent, timeoutMs: 5000 });
      return r.status === 200;
    });
  const dashboardLoad = () =>
    openLoop(RATE, seconds, async (i) => {
      const r = await clients[i % people]!.get('/dashboard', 5000);
      return r.status === 200 && r.text.includes('Dashboard');
    });
  const health = await healthLoad();
  const dashboard = await dashboardLoad();
  sample(`${people} accounts, after load`);
  // The engine alone at the same rate, right after: what /health and /dashboard asked Docker per
  // request before the state cache (a ping, an inspect of the person's container).
  const peek = new DbPeek(deps.dbPath);
  const names = Array.from({ length: people }, (_, i) => `b${ctx.runId}-u${i}-${ctx.runId}-${peek.userId(`u${i}-${ctx.runId}`)}`);
  peek.close();
  const rawPing = await openLoop(RATE, seconds, async () => (await ctx.docker.ping(), true));
  const rawInspect = await openLoop(
    RATE,
    seconds,
    async (i) => (await ctx.docker.getContainer(names[i % people]!).inspect()).State.Running,
  );

  // Up to 10,000 accounts, then 1,000 more, straight into the database (no containers): what
  // Spawner keeps per account, not what Docker does, is what its memory could grow with. Each
  // sample follows a round of dashboard load and a sweep or two (the sweep reads every account).
  // A second round before the first sample lets the heap settle at its working size; the growth
  // is the mean over two further 1,000s, each after one round (V8's heap moves RSS by a few MiB
  // either way between two samples, whatever the accounts).
  const hash = await bcrypt.hash('correct horse battery', 4);
  await insertAccounts(deps.dbPath, `x-${ctx.runId}-`, ACCOUNTS - people, hash);
  const atAccounts = await dashboardLoad();
  await dashboardLoad();
  sample(`${ACCOUNTS} accounts, after load`);
  await insertAccounts(deps.dbPath, `y-${ctx.runId}-`, FURTHER, hash);
  const atFurther = await dashboardLoad();
  sample(`${ACCOUNTS + FURTHER} accounts, after load`);
  await insertAccounts(deps.dbPath, `z-${ctx.runId}-`, FURTHER, hash);
  await dashboardLoad();
  sample(`${ACCOUNTS + 2 * FURTHER} accounts, after load`);

  // Control: the same Spawner and database without the idle sweep (no Traefik API configured),
  // to see what the sweep's Docker list and metrics scrape every 5 s add to the tail.
  await ctx.stop(spawner);
  spawner = await SpawnerProcess.start(ctx, deps.port, { ...deps.env, TRAEFIK_API_URL: '', IDLE_SWEEP_INTERVAL: '60s' });
  const healthNoSweep = await healthLoad();
  const dashboardNoSweep = await dashboardLoad();
  await ctx.stop(spawner);
  agent.destroy();

  ctx.details.latency = {
    rate: RATE,
    seconds,
    people,
    health,
    dashboard,
    rawDockerPing: rawPing,
    rawDockerInspect: rawInspect,
    dashboardWithAccounts: atAccounts,
    dashboardWithFurther: atFurther,
    withoutIdleSweep: { health: healthNoSweep, dashboard: dashboardNoSweep },
    memory,
  };
  for (const [id, name, result, raw, what, noSweep, target] of [
    ['health', '/health', health, rawPing, 'docker ping', healthNoSweep, TARGET.healthP99],
    ['dashboard', '/dashboard', dashboard, rawInspect, 'docker inspect', dashboardNoSweep, TARGET.dashboardP99],
  ] as const) {
    ctx.rows.push({
      id: `latency-${id}`,
      benchmark: `${name} latency at ${RATE} req/s, ${people} containers`,
      target: `p99 < ${target} ms`,
      measured: `p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms`,
      baseline: `raw ${what}: p50 ${raw.latency.p50.toFixed(1)} ms, p99 ${raw.latency.p99.toFixed(1)} ms`,
      ratio: result.latency.p99 / raw.latency.p99,
      pass: result.latency.p99 < target && result.errors === 0,
      note: `${result.latency.n} requests over ${seconds} s, ${result.errors} errors, max ${result.latency.max.toFixed(1)} ms; without the idle sweep: p50 ${noSweep.latency.p50.toFixed(1)}, p99 ${noSweep.latency.p99.toFixed(1)} ms; ratio is of the p99s`,
    });
  }
  const atMany = memory[`${ACCOUNTS} accounts, after load`]!;
  const atMore = memory[`${ACCOUNTS + FURTHER} accounts, after load`]!;
  const atMost = memory[`${ACCOUNTS + 2 * FURTHER} accounts, after load`]!;
  const growth = (atMost.rssMiB - atMany.rssMiB) / 2;
  ctx.rows.push({
    id: 'rss',
    benchmark: `Spawner RSS with ${ACCOUNTS} accounts (${people} containers), growth per further ${FURTHER}`,
    target: `< ${TARGET.rssMiB} MiB, growth < ${TARGET.growthMiB} MiB`,
    measured: `${atMany.rssMiB} MiB (peak ${atMany.peakMiB} MiB), ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB per 1,000`,
    baseline: `at start ${memory.start!.rssMiB} MiB`,
    ratio: null,
    pass: atMany.rssMiB < TARGET.rssMiB && growth < TARGET.growthMiB,
    note: `${people} accounts signed up over HTTP with containers, the rest inserted through the store without; at ${ACCOUNTS + FURTHER} accounts ${atMore.rssMiB} MiB, at ${ACCOUNTS + 2 * FURTHER} ${atMost.rssMiB} MiB (growth is the mean per 1,000); /dashboard at ${ACCOUNTS} accounts p99 ${atAccounts.latency.p99.toFixed(1)} ms, at ${ACCOUNTS + FURTHER} p99 ${atFurther.latency.p99.toFixed(1)} ms`,
  });
}
