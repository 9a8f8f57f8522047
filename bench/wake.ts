// Wake from stopped: a request to a sleeping person's URL through the real Traefik until the
// service itself answers 200, against raw `docker start` + first 200 of the same spec. Two
// clients: a browser (HTML GET, then whatever Spawner answers: the service, or the starting page,
// its server-sent "ready" event and the reload) and a program (held request, 307 or forwarded).
// Wake from paused: Spawner has no pause stage, so only the raw floor (unpause + first 200).
import { join } from 'node:path';
import type { Config } from '../src/config.js';
import type { ImageFacts } from '../src/containers/docker/spec.js';
import { containerName } from '../src/containers/naming.js';
import { sleep, waitFor, type BenchContext } from './lib/context.js';
import { httpRequest, SessionClient, waitForEvent, type HttpResponse } from './lib/http.js';
import { DbPeek } from './lib/peek.js';
import { containerIp, createRawContainer, rawStart } from './lib/raw.js';
import { BENCH_DOMAIN, configFor, SpawnerProcess } from './lib/spawner.js';
import { since, summarize } from './lib/stats.js';
import type { BenchTraefik } from './lib/traefik.js';
import { signUp } from './spawn.js';

const BROWSER = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36', accept: 'text/html,application/xhtml+xml' };
const PROGRAM = { 'user-agent': 'spawner-bench/1.0', accept: '*/*' };
/** Spawner's events path on the person's own address (src/routes/wake.ts). */
const EVENTS_PATH = '/.spawner/wake-events';

type Path = 'direct' | 'starting-page' | 'starting-page, event missed' | '307';

interface WakeSample {
  ms: number;
  firstAnswerMs: number;
  readyEventMs?: number;
  /** When Traefik's own route to the service was up (until then Spawner forwards). */
  routedMs?: number;
  path: Path;
}

const isService = (r: HttpResponse, username: string) => r.status === 200 && r.text.includes(`Hello ${username}`);

/** The browser: GET the page; on the starting page wait for "ready" and load the page again. */
async function browserWake(traefik: BenchTraefik, username: string): Promise<WakeSample> {
  const host = `${username}.${BENCH_DOMAIN}`;
  const get = () => httpRequest('127.0.0.1', traefik.webPort, '/', { headers: { ...BROWSER, host }, timeoutMs: 60_000 });
  const t0 = performance.now();
  const first = await get();
  const firstAnswerMs = since(t0);
  if (isService(first, username)) return { ms: firstAnswerMs, firstAnswerMs, path: 'direct' };
  if (first.status !== 503 || !first.text.includes('Starting')) throw new Error(`wake page: ${first.status} ${first.text.slice(0, 200)}`);
  let path: Path = 'starting-page';
  let readyEventMs: number | undefined;
  try {
    await waitForEvent('127.0.0.1', traefik.webPort, EVENTS_PATH, { ...BROWSER, host }, 'ready', 60_000);
    readyEventMs = since(t0);
  } catch {
    // The route already moved to the service (its httpd answers the events path with 404): the
    // page's script reloads in that case too (after 1 s; the bench reloads at once).
    path = 'starting-page, event missed';
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const again = await get();
    if (isService(again, username)) return { ms: since(t0), firstAnswerMs, ...(readyEventMs ? { readyEventMs } : {}), path };
    await sleep(25);
  }
  throw new Error(`${username}: the service never answered after "ready"`);
}

/** A program: one GET; Spawner holds it and forwards it, or answers 307 to the same URL. */
async function programWake(traefik: BenchTraefik, username: string): Promise<WakeSample> {
  const host = `${username}.${BENCH_DOMAIN}`;
  const t0 = performance.now();
  let location = '/';
  let path: Path = 'direct';
  let firstAnswerMs = 0;
  for (let hop = 0; hop < 5; hop++) {
    const response = await httpRequest('127.0.0.1', traefik.webPort, location, { headers: { ...PROGRAM, host }, timeoutMs: 60_000 });
    firstAnswerMs ||= since(t0);
    if (isService(response, username)) return { ms: since(t0), firstAnswerMs, path };
    if (response.status !== 307 || !response.headers.location)
      throw new Error(`held request: ${response.status} ${response.text.slice(0, 200)}`);
    location = response.headers.location;
    path = '307';
  }
  throw new Error(`${username}: too many redirects`);
}

const countBy = (items: readonly string[]) => items.reduce<Record<string, number>>((acc, k) => ({ ...acc, [k]: (acc[k] ?? 0) + 1 }), {});

export async function benchWake(
  ctx: BenchContext,
  deps: {
    spawner: SpawnerProcess;
    traefik: BenchTraefik;
    config: Readonly<Config>;
    facts: ImageFacts;
    dbPath: string;
    label: 'default' | 'fast';
  },
): Promise<void> {
  const { spawner, traefik, config, label } = deps;
  const perFlow = ctx.size(6, 3);
  const people = await signUpPeople(spawner.port, deps.dbPath, config, perFlow * 2, (i) => `wk${label[0]}${i}-${ctx.runId}`);
  // The raw baseline's own container, same spec.
  const raw = await createRawContainer(ctx.docker, config, deps.facts, {
    id: 910_000 + (label === 'fast' ? 1 : 0),
    username: `rwk${label[0]}-${ctx.runId}`,
  });
  await raw.start();

  // Every sleeper first routed by Traefik (as a used service is), then stopped, then unrouted.
  await waitFor(
    async () => (await Promise.all(people.map((p) => traefik.routerStatus(p.name)))).every((s) => s === 'enabled'),
    30_000,
    'routes to the new services',
  );
  await ctx.stopOneByOne(people.map((p) => p.name));
  await waitFor(
    async () => (await Promise.all(people.map((p) => traefik.routerStatus(p.name)))).every((s) => s === null),
    30_000,
    'routes of the stopped services to go',
  );

  const samples: Record<'browser' | 'program', WakeSample[]> = { browser: [], program: [] };
  const rawMs: number[] = [];
  for (const person of people) {
    const t0 = performance.now();
    const sample = person.flow === 'browser' ? await browserWake(traefik, person.username) : await programWake(traefik, person.username);
    // Not part of the wake time: how long Traefik itself took to route to the service.
    await waitFor(
      async () => (await traefik.routerStatus(person.name)) === 'enabled',
      15_000,
      `Traefik's route to ${person.name}`,
      10,
    ).catch(() => undefined);
    samples[person.flow].push({ ...sample, routedMs: since(t0) });
    await raw.stop({ t: 10 });
    rawMs.push(await rawStart(ctx.docker, config, raw.id));
  }
  await raw.remove({ force: true });

  const r = summarize(rawMs);
  const throttle = label === 'fast' ? 'Traefik throttle 100ms' : 'Traefik throttle 2s (default)';
  const spawnerSays = spawner
    .logged('service awake')
    .concat(spawner.logged('woke container'))
    .map((entry) => Number(entry.ms))
    .filter(Number.isFinite);
  ctx.details[`wake-${label}`] = {
    throttle,
    raw: r,
    spawnerLoggedWakeMs: spawnerSays.length ? summarize(spawnerSays) : null,
    ...Object.fromEntries(
      (['browser', 'program'] as const).map((flow) => [
        flow,
        {
          total: summarize(samples[flow].map((s) => s.ms)),
          firstAnswer: summarize(samples[flow].map((s) => s.firstAnswerMs)),
          traefikRouted: summarize(samples[flow].map((s) => s.routedMs ?? Number.NaN)),
          readyEvent: samples[flow].some((s) => s.readyEventMs)
            ? summarize(samples[flow].flatMap((s) => (s.readyEventMs ? [s.readyEventMs] : [])))
            : null,
          paths: countBy(samples[flow].map((s) => s.path)),
          samples: samples[flow],
        },
      ]),
    ),
  };
  for (const flow of ['browser', 'program'] as const) {
    const s = summarize(samples[flow].map((x) => x.ms));
    const ratio = s.p50 / r.p50;
    const paths = Object.entries(countBy(samples[flow].map((x) => x.path)))
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ');
    ctx.rows.push({
      id: `wake-${flow}-${label}`,
      benchmark: `wake from stopped, ${flow === 'browser' ? 'browser (HTML GET)' : 'program (held request)'}, ${throttle}`,
      target: 'ratio ≤ 1.3',
      measured: `p50 ${s.p50.toFixed(0)} ms (max ${s.max.toFixed(0)})`,
      baseline: `raw start+200: p50 ${r.p50.toFixed(0)} ms`,
      ratio,
      pass: ratio <= 1.3,
      note: `n=${s.n} (${label}); answered by: ${paths}; Traefik's own route up after p50 ${summarize(samples[flow].map((x) => x.routedMs ?? Number.NaN)).p50.toFixed(0)} ms`,
    });
  }
}

export async function benchPaused(
  ctx: BenchContext,
  deps: { traefik: BenchTraefik; config: Readonly<Config>; facts: ImageFacts; port: number; env: Record<string, string>; dir: string },
): Promise<void> {
  const { traefik, config } = deps;
  const floor = await rawPausedFloor(ctx, deps);
  const d = summarize(floor.direct);
  const t = summarize(floor.viaTraefik);
  ctx.details.paused = { rawDirect: d, rawViaTraefik: t, traefikFailures: floor.traefikFailures };
  const baseline = `raw unpause+200: p50 ${d.p50.toFixed(1)} ms (p99 ${d.p99.toFixed(1)}); via Traefik p50 ${t.p50.toFixed(1)} ms`;

  // Spawner's pause stage: its own sweep pauses the idle services (CONTAINER_PAUSE_AFTER) and
  // nudges Traefik, which drops their routes; then a request through Traefik reaches Spawner's
  // wake route, which unpauses and forwards. Its own database: the sweep then considers only
  // these people (earlier phases' idle containers would each cost it a probe per sweep).
  const dbPath = join(deps.dir, 'paused.db');
  const env = {
    ...deps.env,
    DATABASE_PATH: dbPath,
    CONTAINER_PAUSE_AFTER: '3s',
    CONTAINER_IDLE_TIMEOUT: '1h',
    IDLE_SWEEP_INTERVAL: '1s',
    TRAEFIK_API_URL: traefik.api,
  };
  if (!('pauseAfterMs' in configFor(env).containers)) {
    ctx.rows.push({
      id: 'wake-paused',
      benchmark: 'wake from paused',
      target: '< 30 ms',
      measured: 'not implemented',
      baseline,
      ratio: null,
      pass: null,
      note: 'Spawner has no pause stage in this tree; the raw floor is what one could reach',
    });
    return;
  }
  const spawner = await SpawnerProcess.start(ctx, deps.port, env);
  const samples: WakeSample[] = [];
  try {
    const perFlow = ctx.size(4, 2);
    const people = await signUpPeople(spawner.port, dbPath, config, perFlow * 2, (i) => `pz${i}-${ctx.runId}`);
    await waitFor(
      async () => {
        const states = await Promise.all(people.map(async (p) => (await ctx.docker.getContainer(p.name).inspect()).State.Paused));
        const routes = await Promise.all(people.map((p) => traefik.routerStatus(p.name)));
        return states.every(Boolean) && routes.every((r) => r === null);
      },
      60_000,
      "Spawner's sweep to pause the services and Traefik to drop their routes",
      200,
    );
    for (const person of people) {
      samples.push(person.flow === 'browser' ? await browserWake(traefik, person.username) : await programWake(traefik, person.username));
    }
  } finally {
    await ctx.stop(spawner);
  }
  const s = summarize(samples.map((x) => x.ms));
  const paths = Object.entries(countBy(samples.map((x) => x.path)))
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
  ctx.details.paused = { ...(ctx.details.paused as object), spawner: { total: s, samples } };
  ctx.rows.push({
    id: 'wake-paused',
    benchmark: 'wake from paused (CONTAINER_PAUSE_AFTER), through Traefik',
    target: '< 30 ms',
    measured: `p50 ${s.p50.toFixed(1)} ms (max ${s.max.toFixed(1)})`,
    baseline,
    ratio: s.p50 / t.p50,
    pass: s.p50 < 30,
    note: `n=${s.n}, browsers and programs alternating; answered by: ${paths}; ratio against raw unpause+200 through Traefik; the floor's n=${floor.direct.length}`,
  });
}

/** Raw `docker unpause` + first 200, straight to the container and through Traefik (which keeps routing to it). */
async function rawPausedFloor(ctx: BenchContext, deps: { traefik: BenchTraefik; config: Readonly<Config>; facts: ImageFacts }) {
  const { traefik, config } = deps;
  const samples = ctx.size(20, 8);
  const username = `rwp-${ctx.runId}`;
  const person = { id: 920_000, username };
  const container = await createRawContainer(ctx.docker, config, deps.facts, person);
  await container.start();
  const ip = await containerIp(ctx.docker, container.id, config.traefik.network);
  await waitFor(
    async () => (await traefik.routerStatus(containerName(config, person))) === 'enabled',
    30_000,
    'route to the paused-bench container',
  );
  const host = `${username}.${BENCH_DOMAIN}`;
  const direct: number[] = [];
  const viaTraefik: number[] = [];
  const traefikFailures: string[] = [];
  // Docker applies containerd's pause/resume events to its state asynchronously: under load a
  // late "paused" event can make the container look paused after unpause returned, and the next
  // pause then fails with 409. Pause only once Docker shows it running and not paused.
  const pause = async () => {
    await waitFor(async () => !(await container.inspect()).State.Paused, 10_000, 'Docker to show the container unpaused', 10);
    await container.pause();
  };
  for (let i = 0; i < samples; i++) {
    await pause();
    let t0 = performance.now();
    await container.unpause();
    const answer = await httpRequest(ip, config.containers.port, '/', { timeoutMs: 5000 });
    if (answer.status !== 200) throw new Error(`after unpause: ${answer.status}`);
    direct.push(since(t0));

    await pause();
    t0 = performance.now();
    await container.unpause();
    const proxied = await httpRequest('127.0.0.1', traefik.webPort, '/', { headers: { host }, timeoutMs: 5000 });
    if (proxied.status === 200) viaTraefik.push(since(t0));
    else traefikFailures.push(String(proxied.status));
  }
  await container.remove({ force: true });
  return { direct, viaTraefik, traefikFailures };
}

/** Signs `count` people up over HTTP; even ones wake as browsers, odd ones as programs. */
async function signUpPeople(
  port: number,
  dbPath: string,
  config: { containers: { namePrefix: string } },
  count: number,
  usernameOf: (i: number) => string,
): Promise<{ username: string; name: string; flow: 'browser' | 'program' }[]> {
  const peek = new DbPeek(dbPath);
  const people: { username: string; name: string; flow: 'browser' | 'program' }[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const username = usernameOf(i);
      await signUp(new SessionClient('127.0.0.1', port), username);
      people.push({
        username,
        name: `${config.containers.namePrefix}-${username}-${peek.userId(username)}`,
        flow: i % 2 === 0 ? 'browser' : 'program',
      });
    }
  } finally {
    peek.close();
  }
  return people;
}
