// The access check's cost (issue 11). Added latency: one Traefik, one person's container, two
// routers to it — the person's own (Spawner's labels, with the forwardAuth middleware) and a
// file-provider router to the same `<container>@docker` service without it — sequential keep-alive
// GETs interleaved one by one, the owner's valid access cookie on the checked side. Throughput:
// GET /.spawner/verify as Traefik calls it (valid cookie, so the HMAC and the table lookup run),
// straight to Spawner's port with a few requests in flight, as requests per second of wall time and
// per CPU-second of the Spawner process (Node runs the check on one thread: one core at most).
import { Agent } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, type BenchContext } from './lib/context.js';
import { httpRequest, SessionClient } from './lib/http.js';
import { BENCH_DOMAIN, SpawnerProcess } from './lib/spawner.js';
import { since, summarize } from './lib/stats.js';
import { BenchTraefik } from './lib/traefik.js';
import { signUp } from './spawn.js';

const DIRECT_HOST = `direct.${BENCH_DOMAIN}`;

/** utime + stime of a process in seconds, from /proc (clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function benchAccess(ctx: BenchContext, deps: { env: Record<string, string> }): Promise<void> {
  const port = await freePort();
  const traefik = await BenchTraefik.start(ctx, { name: 'access', spawnerPort: port, metrics: true });
  const env = { ...deps.env, DATABASE_PATH: join(ctx.dir, 'access.db'), TRAEFIK_API_URL: traefik.api, SERVICE_ACCESS: 'owner' };
  const spawner = await SpawnerProcess.start(ctx, port, env);
  try {
    await measure(ctx, traefik, spawner);
  } finally {
    await ctx.stop(spawner);
    await ctx.stop(traefik);
  }
}

async function measure(ctx: BenchContext, traefik: BenchTraefik, spawner: SpawnerProcess): Promise<void> {
  const username = `acc-${ctx.runId}`;
  const client = new SessionClient('127.0.0.1', spawner.port);
  await signUp(client, username);
  const [container] = await ctx.docker.listContainers({ filters: { label: [ctx.labelPair, `spawner.username=${username}`] } });
  if (!container) throw new Error(`no container for ${username}`);
  const name = container.Names[0]!.replace(/^\//, '');
  const host = `${username}.${BENCH_DOMAIN}`;
  await traefik.addRouters({ direct: { rule: `Host(\`${DIRECT_HOST}\`)`, service: `${name}@docker`, entryPoints: ['web'] } });
  const deadline = Date.now() + 30_000;
  while ((await traefik.routerStatus(name)) !== 'enabled') {
    if (Date.now() > deadline) throw new Error(`router ${name}@docker not enabled`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // The owner's access cookie, through the real round trip: authorize → the callback via Traefik.
  const granted = await client.get(`/authorize?next=${encodeURIComponent(`http://${host}/`)}`);
  const callback = new URL(String(granted.headers.location));
  const back = await httpRequest('127.0.0.1', traefik.webPort, `${callback.pathname}${callback.search}`, { headers: { host } });
  const cookie = String(back.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  if (back.status !== 302 || !cookie.startsWith('spawner-access=')) throw new Error(`callback: ${back.status} ${cookie}`);
  // The check really runs on one side and not on the other.
  const refused = await httpRequest('127.0.0.1', traefik.webPort, '/', { headers: { host, accept: 'application/json' } });
  const open = await httpRequest('127.0.0.1', traefik.webPort, '/', { headers: { host: DIRECT_HOST } });
  if (refused.status !== 401 || open.status !== 200)
    throw new Error(`sides: checked without cookie ${refused.status}, unchecked ${open.status}`);

  const sides = {
    on: { headers: { host, cookie, accept: 'text/html' }, agent: new Agent({ keepAlive: true, maxSockets: 1 }) },
    off: { headers: { host: DIRECT_HOST, cookie, accept: 'text/html' }, agent: new Agent({ keepAlive: true, maxSockets: 1 }) },
  };
  const lat: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const one = async (side: 'on' | 'off', record: boolean) => {
    const t0 = performance.now();
    const r = await httpRequest('127.0.0.1', traefik.webPort, '/', { ...sides[side], timeoutMs: 5000 });
    if (r.status !== 200 || !r.text.includes(`Hello ${username}`)) throw new Error(`access ${side}: ${r.status} ${r.text.slice(0, 100)}`);
    if (record) lat[side].push(since(t0));
  };
  // Interleaved one by one (on, off, off, on, …): a burst of load from elsewhere on the machine
  // lands on both sides alike, so the difference of the percentiles is the check's own.
  const perSide = ctx.size(5000, 1000);
  for (let i = 0; i < 200; i++) for (const side of ['on', 'off'] as const) await one(side, false);
  for (let i = 0; i < perSide; i++) {
    for (const side of i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) await one(side, true);
  }
  sides.on.agent.destroy();
  sides.off.agent.destroy();
  const on = summarize(lat.on);
  const off = summarize(lat.off);

  // /.spawner/verify alone, as Traefik asks it, a few in flight, for a bounded time and count.
  const verifyHeaders = {
    'x-forwarded-host': host,
    'x-forwarded-uri': '/index.html?x=1',
    'x-forwarded-proto': 'http',
    'x-forwarded-method': 'GET',
    accept: 'text/html',
    cookie: `theme=dark; ${cookie}`,
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const seconds = ctx.size(5, 2);
  const warm = Date.now() + 1000;
  while (Date.now() < warm) await httpRequest('127.0.0.1', spawner.port, '/.spawner/verify', { headers: verifyHeaders, agent });
  let ok = 0;
  let bad = 0;
  const cpu0 = cpuSeconds(spawner.pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const worker = async () => {
    for (let i = 0; i < 1_000_000 && performance.now() < end; i++) {
      const r = await httpRequest('127.0.0.1', spawner.port, '/.spawner/verify', { headers: verifyHeaders, agent, timeoutMs: 5000 });
      if (r.status === 200 && r.headers.cookie === 'theme=dark') ok++;
      else bad++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const wallS = since(t0) / 1000;
  const cpuS = cpuSeconds(spawner.pid) - cpu0;
  agent.destroy();
  const perSecond = ok / wallS;
  const perCpuSecond = ok / Math.max(cpuS, 0.01);

  const p99diff = on.p99 - off.p99;
  const p50diff = on.p50 - off.p50;
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
  ctx.details.access = { requestsPerSide: perSide, authOn: on, authOff: off, p50DiffMs: p50diff, p99DiffMs: p99diff };
  ctx.details.accessVerify = { seconds: wallS, inFlight: 8, ok, bad, spawnerCpuSeconds: cpuS, perSecond, perCpuSecond };
  ctx.rows.push({
    id: 'access-latency',
    benchmark: 'access check: added latency per request through Traefik (forwardAuth on − off)',
    target: 'p99 < 2 ms',
    measured: `${signed(p99diff)} ms p99 (${signed(p50diff)} ms p50)`,
    baseline: `auth off: p50 ${off.p50.toFixed(2)} ms, p99 ${off.p99.toFixed(2)} ms`,
    ratio: on.p99 / off.p99,
    pass: p99diff < 2,
    note: `same Traefik and container; ${perSide} sequential keep-alive GETs per side, interleaved one by one, the owner's valid cookie on both; auth on: p50 ${on.p50.toFixed(2)}, p90 ${on.p90.toFixed(2)}, p99 ${on.p99.toFixed(2)} ms; off: p90 ${off.p90.toFixed(2)} ms`,
  });
  ctx.rows.push({
    id: 'access-verify',
    benchmark: 'access check throughput: GET /.spawner/verify, valid cookie, one Node thread',
    target: '(report)',
    measured: `${Math.round(perSecond)} req/s`,
    baseline: `${Math.round(perCpuSecond)} req per Spawner CPU-second`,
    ratio: null,
    pass: bad === 0 ? null : false,
    note: `${ok} answers in ${wallS.toFixed(1)} s with 8 in flight (${bad} wrong), Spawner used ${cpuS.toFixed(2)} CPU-s; the load generator shares the 2 cores`,
  });
}
