// `npm run bench`: every benchmark of issue 6, each side by side with the raw Docker engine in the
// same run, same test image and limits. Prints a table and writes bench/results/*.json.
// BENCH_QUICK=1 for a shorter run; BENCH_ONLY=spawn,wake,... to run some phases (development).
// Everything it creates carries the label spawner.bench=<run id> and is removed at the end, also
// after a failure or Ctrl-C. See bench/README.md for what each number means.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { buildTestImages, TEST_IMAGE } from '../test/helpers/testImage.js';
import { BenchContext, freePort } from './lib/context.js';
import { imageFacts } from './lib/raw.js';
import { formatTable, writeResults } from './lib/report.js';
import { configFor, SpawnerProcess, spawnerEnv } from './lib/spawner.js';
import { BenchTraefik } from './lib/traefik.js';
import { benchSpawn } from './spawn.js';
import { benchWake, benchPaused } from './wake.js';
import { benchLogin } from './login.js';
import { benchLatency } from './latency.js';
import { benchActivity } from './activity.js';
import { benchReconcile } from './reconcile.js';
import { benchAccess } from './access.js';
import { benchIsolation } from './isolation.js';

const PHASES = ['spawn', 'wake', 'paused', 'login', 'latency', 'activity', 'access', 'isolation', 'reconcile'] as const;
type Phase = (typeof PHASES)[number];

const quick = ['1', 'true', 'yes'].includes((process.env.BENCH_QUICK ?? '').toLowerCase());
const only = new Set((process.env.BENCH_ONLY ?? PHASES.join(',')).split(',').map((s) => s.trim()));
const ctx = new BenchContext(quick);
const startedAt = new Date();
const startLoad = loadavg().map((x) => Math.round(x * 100) / 100);

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // A second signal: give up on the clean-up (it may be waiting on a hung engine).
      ctx.log(`${signal} again: exiting; remove what is left with: docker rm -f $(docker ps -aq --filter label=${ctx.labelPair})`);
      process.exit(130);
    }
    interrupted = true;
    ctx.log(`${signal}: cleaning up`);
    void ctx.cleanup().finally(() => process.exit(130));
  });
}

/** Runs one phase; a failure becomes a failed row and the next phase still runs. */
async function phase(name: Phase, run: () => Promise<void>): Promise<void> {
  if (!only.has(name) || interrupted) return;
  const t0 = Date.now();
  ctx.log(`${name}: start`);
  try {
    await run();
  } catch (error) {
    ctx.log(`${name}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    ctx.rows.push({
      id: name,
      benchmark: `${name} (error)`,
      target: '',
      measured: 'error',
      baseline: '',
      ratio: null,
      pass: false,
      note: `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    });
  }
  ctx.log(`${name}: done in ${Math.round((Date.now() - t0) / 1000)} s`);
  // What is measured so far survives a run that is killed later.
  writeResults(ctx, startedAt, startLoad, undefined, true);
}

async function main(): Promise<void> {
  ctx.log(`run ${ctx.runId}${quick ? ' (quick)' : ''}; label ${ctx.labelPair}`);
  await ctx.docker.ping();
  buildTestImages();
  await ctx.createNetwork();
  const facts = await imageFacts(ctx.docker, TEST_IMAGE);
  const spawnerPort = await freePort();
  const mainDb = join(ctx.dir, 'spawner.db');

  // Traefik as deployed (default 2 s providers throttle, metrics on): wake, paused, latency, activity.
  const traefik = await BenchTraefik.start(ctx, { name: 'default', spawnerPort, metrics: true });
  const baseEnv = spawnerEnv(ctx, { BCRYPT_COST: '4', DATABASE_PATH: mainDb, TRAEFIK_API_URL: traefik.api });
  const config = configFor(baseEnv);

  let spawner = await SpawnerProcess.start(ctx, spawnerPort, baseEnv);
  await phase('spawn', () => benchSpawn(ctx, { spawner, config, facts, dbPath: mainDb }));
  await phase('wake', async () => {
    await benchWake(ctx, { spawner, traefik, config, facts, dbPath: mainDb, label: 'default' });
    // The same with Traefik applying Docker events after 100 ms instead of 2 s.
    await ctx.stop(spawner);
    const fast = await BenchTraefik.start(ctx, { name: 'fast', spawnerPort, metrics: true, throttle: '100ms' });
    spawner = await SpawnerProcess.start(ctx, spawnerPort, { ...baseEnv, TRAEFIK_API_URL: fast.api });
    try {
      await benchWake(ctx, { spawner, traefik: fast, config, facts, dbPath: mainDb, label: 'fast' });
    } finally {
      await ctx.stop(fast);
    }
  });
  await ctx.stop(spawner);
  await phase('paused', () => benchPaused(ctx, { traefik, config, facts, port: spawnerPort, env: baseEnv, dir: ctx.dir }));

  await phase('login', async () => {
    const login = await SpawnerProcess.start(ctx, spawnerPort, { ...baseEnv, BCRYPT_COST: '12' });
    try {
      await benchLogin(ctx, { spawner: login });
    } finally {
      await ctx.stop(login);
    }
  });

  const latencyDb = join(ctx.dir, 'latency.db');
  const latencyEnv = { ...baseEnv, DATABASE_PATH: latencyDb, IDLE_SWEEP_INTERVAL: '5s', CONTAINER_IDLE_TIMEOUT: '1h' };
  await phase('latency', () => benchLatency(ctx, { port: spawnerPort, env: latencyEnv, dbPath: latencyDb }));
  await ctx.stop(traefik);
  await phase('activity', () => benchActivity(ctx, { spawnerPort }));
  await phase('access', () => benchAccess(ctx, { env: baseEnv }));
  await phase('isolation', () => benchIsolation(ctx));

  await phase('reconcile', () => benchReconcile(ctx, { facts, env: baseEnv }));
}

let failure: unknown;
try {
  await main();
} catch (error) {
  failure = error;
  ctx.log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await ctx.cleanup();
}
if (!interrupted) {
  process.stdout.write(`\nSpawner benchmarks, run ${ctx.runId}${quick ? ' (BENCH_QUICK)' : ''}, ${startedAt.toISOString()}\n\n`);
  process.stdout.write(formatTable(ctx.rows) + '\n');
  const file = writeResults(ctx, startedAt, startLoad, failure);
  process.stdout.write(`\nJSON: ${file}\n`);
  process.exitCode = failure ? 1 : 0;
}
