// /health and /dashboard latency at a fixed request rate on loopback, with 200 people's containers
// running, and Spawner's resident memory with 200 and then 500 accounts. The load is open-loop:
// request i is sent at start + i/rate whatever earlier requests do, and its latency is counted
// from that scheduled moment, so a slow answer cannot hide the queue behind it.
import { Agent } from 'node:http';
import bcrypt from 'bcrypt';
import Database from 'better-sqlite3';
import { mapLimit, sleep, type BenchContext } from './lib/context.js';
import { httpRequest, SessionClient } from './lib/http.js';
import { SpawnerProcess } from './lib/spawner.js';
import { DbPeek } from './lib/peek.js';
import { summarize, type Summary } from './lib/stats.js';
import { signUp } from './spawn.js';

const RATE = 50;

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

export async function benchLatency(ctx: BenchContext, deps: { port: number; env: Record<string, string>; dbPath: string }): Promise<void> {
  let spawner = await SpawnerProcess.start(ctx, deps.port, deps.env);
  const people = ctx.size(200, 50);
  const extra = 500 - people;
  const seconds = ctx.size(10, 4);
  const memory: Record<string, { rssMiB: number; peakMiB: number }> = {};
  const sample = (when: string) => {
    const m = spawner.memory();
    memory[when] = { rssMiB: mib(m.rssKiB), peakMiB: mib(m.peakKiB) };
  };
  sample('start');

  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
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
  // The engine alone at the same rate, right after: /health pings Docker, /dashboard inspects the
  // person's container, so these are the floors of the two.
  const peek = new DbPeek(deps.dbPath);
  const names = Array.from({ length: people }, (_, i) => `b${ctx.runId}-u${i}-${ctx.runId}-${peek.userId(`u${i}-${ctx.runId}`)}`);
  peek.close();
  const rawPing = await openLoop(RATE, seconds, async () => (await ctx.docker.ping(), true));
  const rawInspect = await openLoop(
    RATE,
    seconds,
    async (i) => (await ctx.docker.getContainer(names[i % people]!).inspect()).State.Running,
  );

  // The rest of 500 accounts straight into the database (no containers): what Spawner keeps per
  // account, not what Docker does, is what its memory could grow with.
  const hash = await bcrypt.hash('correct horse battery', 4);
  const db = new Database(deps.dbPath);
  try {
    db.pragma('busy_timeout = 5000');
    const insert = db.prepare('INSERT INTO users (username, email, password_hash) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < extra; i++) insert.run(`x${i}-${ctx.runId}`, `x${i}-${ctx.runId}@bench.test`, hash);
    })();
  } finally {
    db.close();
  }
  const again = await dashboardLoad();
  sample('500 accounts, after load');

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
    dashboardWith500: again,
    withoutIdleSweep: { health: healthNoSweep, dashboard: dashboardNoSweep },
    memory,
  };
  for (const [id, name, result, raw, what, noSweep] of [
    ['health', '/health', health, rawPing, 'docker ping', healthNoSweep],
    ['dashboard', '/dashboard', dashboard, rawInspect, 'docker inspect', dashboardNoSweep],
  ] as const) {
    ctx.rows.push({
      id: `latency-${id}`,
      benchmark: `${name} latency at ${RATE} req/s, ${people} containers`,
      target: 'p99 < 20 ms',
      measured: `p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms`,
      baseline: `raw ${what}: p50 ${raw.latency.p50.toFixed(1)} ms, p99 ${raw.latency.p99.toFixed(1)} ms`,
      ratio: result.latency.p99 / raw.latency.p99,
      pass: result.latency.p99 < 20 && result.errors === 0,
      note: `${result.latency.n} requests over ${seconds} s, ${result.errors} errors, max ${result.latency.max.toFixed(1)} ms; without the idle sweep: p50 ${noSweep.latency.p50.toFixed(1)}, p99 ${noSweep.latency.p99.toFixed(1)} ms; ratio is of the p99s`,
    });
  }
  const at500 = memory['500 accounts, after load']!;
  ctx.rows.push({
    id: 'rss',
    benchmark: `Spawner RSS with 500 accounts (${people} containers)`,
    target: '(report)',
    measured: `${at500.rssMiB} MiB (peak ${at500.peakMiB} MiB)`,
    baseline: `at start ${memory.start!.rssMiB} MiB`,
    ratio: null,
    pass: null,
    note: `${people} accounts signed up over HTTP with containers, ${extra} more inserted into SQLite without; /dashboard at 500 accounts p99 ${again.latency.p99.toFixed(1)} ms`,
  });
}
