// The activity source's cost. Spawner reads use from Traefik's Prometheus metrics once per sweep,
// so there is no per-request hop; what a proxied request pays is Traefik's own metrics
// bookkeeping. Measured as request latency through a Traefik with metrics on against one with
// metrics off (a fresh pair, alike but for the metrics, nothing else scraping them), to the same
// container, in alternating blocks. And the cost on Spawner's side: one scrape and parse
// (parseServiceRequestCounts) with every service present, as parses/s on one core.
import { Agent } from 'node:http';
import { parseServiceRequestCounts, TraefikMetrics } from '../src/lifecycle/traefikMetrics.js';
import { mapLimit, waitFor, type BenchContext } from './lib/context.js';
import { httpRequest } from './lib/http.js';
import { BENCH_DOMAIN } from './lib/spawner.js';
import { since, summarize } from './lib/stats.js';
import { BenchTraefik } from './lib/traefik.js';

export async function benchActivity(ctx: BenchContext, deps: { spawnerPort: number }): Promise<void> {
  const on = await BenchTraefik.start(ctx, { name: 'metrics-on', spawnerPort: deps.spawnerPort, metrics: true });
  const off = await BenchTraefik.start(ctx, { name: 'metrics-off', spawnerPort: deps.spawnerPort, metrics: false });
  try {
    await measure(ctx, on, off);
  } finally {
    await ctx.stop(off);
    await ctx.stop(on);
  }
}

async function measure(ctx: BenchContext, withMetrics: BenchTraefik, without: BenchTraefik): Promise<void> {
  const running = await ctx.docker.listContainers({ filters: { label: [ctx.labelPair, 'spawner.managed=true'], status: ['running'] } });
  const services = running.map((c) => ({ name: c.Names[0]!.replace(/^\//, ''), username: c.Labels['spawner.username']! }));
  if (services.length === 0) throw new Error('no running containers to route to (the latency phase makes them)');
  const target = services[0]!;
  for (const traefik of [withMetrics, without]) {
    await waitFor(async () => (await traefik.routerStatus(target.name)) === 'enabled', 30_000, `route on ${traefik.what}`);
  }
  // Every service used once, so the metrics hold a series for each (as after a busy day).
  await mapLimit(services, 8, (s) =>
    httpRequest('127.0.0.1', withMetrics.webPort, '/', { headers: { host: `${s.username}.${BENCH_DOMAIN}` } }),
  );

  const host = `${target.username}.${BENCH_DOMAIN}`;
  const perSide = ctx.size(4000, 1000);
  const block = 50;
  const lat: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const agents = { on: new Agent({ keepAlive: true, maxSockets: 1 }), off: new Agent({ keepAlive: true, maxSockets: 1 }) };
  const ports = { on: withMetrics.webPort, off: without.webPort };
  const one = async (side: 'on' | 'off', record: boolean) => {
    const t0 = performance.now();
    const r = await httpRequest('127.0.0.1', ports[side], '/', { headers: { host }, agent: agents[side], timeoutMs: 5000 });
    if (r.status !== 200) throw new Error(`through Traefik (metrics ${side}): ${r.status}`);
    if (record) lat[side].push(since(t0));
  };
  for (let i = 0; i < 200; i++) for (const side of ['on', 'off'] as const) await one(side, false);
  for (let done = 0; done < perSide; done += block) {
    for (const side of done % (2 * block) === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      for (let i = 0; i < block; i++) await one(side, true);
    }
  }
  agents.on.destroy();
  agents.off.destroy();
  const on = summarize(lat.on);
  const off = summarize(lat.off);

  // Spawner's side: the scrape text with every service, parsed in a bounded loop.
  const text = await (await fetch(`${withMetrics.api}/metrics`)).text();
  const parsed = parseServiceRequestCounts(text);
  const deadline = performance.now() + ctx.size(3000, 1000);
  let parses = 0;
  const p0 = performance.now();
  while (performance.now() < deadline && parses < 100_000) {
    parseServiceRequestCounts(text);
    parses++;
  }
  const parsesPerSecond = parses / (since(p0) / 1000);
  const reader = new TraefikMetrics(`${withMetrics.api}/metrics`);
  const reads: number[] = [];
  for (let i = 0; i < ctx.size(30, 10); i++) {
    const t0 = performance.now();
    await reader.read();
    reads.push(since(t0));
  }
  const scrape = summarize(reads);

  const p99diff = on.p99 - off.p99;
  ctx.details.activity = {
    requestsPerSide: perSide,
    metricsOn: on,
    metricsOff: off,
    p50DiffMs: on.p50 - off.p50,
    p90DiffMs: on.p90 - off.p90,
    p99DiffMs: p99diff,
    scrape: { bytes: text.length, lines: text.split('\n').length, services: parsed.size, parsesPerSecond, scrapeAndParse: scrape },
  };
  ctx.rows.push({
    id: 'activity-latency',
    benchmark: 'activity source: added latency per proxied request (Traefik metrics on − off)',
    target: 'p99 < 2 ms',
    measured: `${p99diff >= 0 ? '+' : ''}${p99diff.toFixed(2)} ms p99 (${on.p50 - off.p50 >= 0 ? '+' : ''}${(on.p50 - off.p50).toFixed(2)} ms p50)`,
    baseline: `metrics off: p50 ${off.p50.toFixed(2)} ms, p99 ${off.p99.toFixed(2)} ms`,
    ratio: on.p99 / off.p99,
    pass: p99diff < 2,
    note: `${perSide} sequential keep-alive requests per side in alternating blocks of ${block}; metrics on: p50 ${on.p50.toFixed(2)}, p90 ${on.p90.toFixed(2)}, p99 ${on.p99.toFixed(2)} ms; off: p90 ${off.p90.toFixed(2)} ms; ${services.length} routed services`,
  });
  ctx.rows.push({
    id: 'activity-throughput',
    benchmark: `activity source throughput: metrics parse, ${parsed.size} services, one core`,
    target: '(report)',
    measured: `${Math.round(parsesPerSecond)} parses/s (${Math.round(parsesPerSecond * parsed.size)} services/s)`,
    baseline: `scrape+parse p50 ${scrape.p50.toFixed(1)} ms, p99 ${scrape.p99.toFixed(1)} ms`,
    ratio: null,
    pass: null,
    note: `one scrape is ${Math.round(text.length / 1024)} KiB; Spawner scrapes once per IDLE_SWEEP_INTERVAL (default 60 s), not per request`,
  });
}
