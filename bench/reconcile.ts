// Start-up reconcile with many accounts: N people in a fresh SQLite file and N managed containers
// (created, not started: reconcile only lists them), then src/reconcile.ts's reconcileContainers
// timed in this process (cold: every stored container id is corrected; then warm), and once as a
// real Spawner start (server.ts logs the reconcile and its duration).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildContainerSpec, type ImageFacts } from '../src/containers/docker/spec.js';
import { DockerBackend } from '../src/containers/docker/backend.js';
import { planFromConfig } from '../src/containers/plan.js';
import { createDockerClient, DockerodeEngine } from '../src/containers/docker/engine.js';
import { MANAGED_LABEL } from '../src/containers/labels.js';
import { openSqliteDatabase } from '../src/db/sqlite/database.js';
import { openSqliteStores } from '../src/db/sqlite/stores.js';
import { createLogger } from '../src/logger.js';
import { freePort, mapLimit, sleep, type BenchContext } from './lib/context.js';
import { configFor, SpawnerProcess } from './lib/spawner.js';
import { since, summarize } from './lib/stats.js';

const ROOT = join(import.meta.dirname, '..');

type ReconcileModule = typeof import('../src/lifecycle/reconcile.js');

async function loadReconcile(): Promise<ReconcileModule | null> {
  try {
    return await import('../src/lifecycle/reconcile.js');
  } catch {
    return null;
  }
}

function committed(path: string): boolean {
  try {
    return execFileSync('git', ['ls-files', '--error-unmatch', path], { cwd: ROOT, stdio: 'pipe' }).length > 0;
  } catch {
    return false;
  }
}

export async function benchReconcile(ctx: BenchContext, deps: { facts: ImageFacts; env: Record<string, string> }): Promise<void> {
  const reconcile = await loadReconcile();
  const isCommitted = committed('src/reconcile.ts');
  if (!reconcile) {
    ctx.rows.push({
      id: 'reconcile',
      benchmark: 'start-up reconcile',
      target: '< 2 s',
      measured: 'not implemented',
      baseline: '',
      ratio: null,
      pass: null,
      note: 'src/reconcile.ts is not present in this tree',
    });
    return;
  }
  // A clean engine for this run: earlier phases' containers would only be more to list.
  let t0 = performance.now();
  const removed = await ctx.removeContainers();
  ctx.log(`reconcile: removed ${removed} earlier bench containers in ${Math.round(since(t0))} ms`);

  const accounts = ctx.size(1000, 250);
  const dbPath = join(ctx.dir, 'reconcile.db');
  const env = { ...deps.env, DATABASE_PATH: dbPath, CONTAINER_NAME_PREFIX: `r${ctx.runId}` };
  const config = configFor(env);
  const database = openSqliteDatabase(dbPath);
  const insert = database.sqlite.prepare('INSERT INTO users (username, email, password_hash) VALUES (?, ?, ?) RETURNING id');
  const people = database.sqlite.transaction(() =>
    Array.from({ length: accounts }, (_, i) => {
      const username = `p${i}-${ctx.runId}`;
      const row = insert.get(username, `${username}@bench.test`, '$2b$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva') as {
        id: number;
      };
      return { id: row.id, username };
    }),
  )();
  database.close();

  // Containers as Spawner builds them, minus the data volume (1000 volumes would be clean-up
  // work, and reconcile never looks at mounts). Bounded in time: fewer containers are reported.
  t0 = performance.now();
  const deadline = Date.now() + ctx.size(240_000, 90_000);
  let created = 0;
  await mapLimit(people, 6, async (person) => {
    if (Date.now() > deadline) return;
    const spec = buildContainerSpec(planFromConfig(config, person), deps.facts);
    delete spec.HostConfig?.Mounts;
    await ctx.docker.createContainer(spec);
    created++;
  });
  const createS = Math.round(since(t0) / 100) / 10;
  ctx.log(`reconcile: ${accounts} accounts, ${created} containers created in ${createS} s`);

  // A real start first (cold: every account's stored container is corrected).
  const port = await freePort();
  const startT0 = performance.now();
  const server = await SpawnerProcess.start(ctx, port, { ...env, TRAEFIK_API_URL: '' });
  let logged: Record<string, unknown> | undefined;
  for (let i = 0; i < 300 && !logged; i++) {
    logged = server.logged('reconciled containers with the database')[0];
    if (!logged) await sleep(100);
  }
  const startToReconciled = since(startT0);
  await ctx.stop(server);

  // In-process runs on the same data (warm: nothing left to correct), and the Docker list alone.
  const engine = new DockerodeEngine(createDockerClient(config.docker));
  const stores = openSqliteStores(dbPath);
  const runs: number[] = [];
  const lists: number[] = [];
  let report: Awaited<ReturnType<ReconcileModule['reconcileContainers']>> | undefined;
  try {
    const backend = new DockerBackend(engine, config.traefik.network, createLogger({ level: 'silent' }));
    const reconcileDeps = {
      containers: { listManaged: () => backend.list() },
      users: stores.users,
      database: stores,
      config,
      logger: createLogger({ level: 'silent' }),
    };
    for (let i = 0; i < ctx.size(5, 3); i++) {
      t0 = performance.now();
      report = await reconcile.reconcileContainers(reconcileDeps);
      runs.push(since(t0));
      t0 = performance.now();
      await engine.listContainers([`${MANAGED_LABEL}=true`]);
      lists.push(since(t0));
    }
  } finally {
    await stores.close();
  }
  const warm = summarize(runs);
  const list = summarize(lists);
  const cold = logged ? Number(logged.durationMs) : Number.NaN;
  ctx.details.reconcile = {
    accounts,
    containersCreated: created,
    createSeconds: createS,
    srcReconcileCommitted: isCommitted,
    serverStart: { reconcileLogged: logged ?? null, startToReconciledMs: startToReconciled },
    inProcess: warm,
    dockerListAlone: list,
    lastReport: report ? { ...report, orphans: report.orphans.length } : null,
  };
  const worst = Math.max(Number.isFinite(cold) ? cold : 0, warm.max);
  ctx.rows.push({
    id: 'reconcile',
    benchmark: `start-up reconcile, ${accounts} accounts, ${created} containers`,
    target: '< 2 s',
    measured: logged
      ? `${cold} ms at start (${String(logged.updated)} corrected); warm p50 ${warm.p50.toFixed(0)} ms`
      : `warm p50 ${warm.p50.toFixed(0)} ms (no start-up log)`,
    baseline: `docker list alone: p50 ${list.p50.toFixed(0)} ms`,
    ratio: warm.p50 / list.p50,
    pass: logged !== undefined && worst < 2000,
    note: `${isCommitted ? '' : 'src/reconcile.ts as in the working tree (not committed yet); '}process start → reconcile logged: ${Math.round(startToReconciled)} ms; managed on the engine: ${report?.managed ?? '?'}, foreign ${report?.foreign ?? '?'}; containers have no volume`,
  });
}
