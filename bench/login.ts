// Login throughput against the bcrypt ceiling. Ceiling: bcrypt.compare per second at cost 12 with
// C comparisons in flight, in this process, on the same cores, while Spawner idles. Logins:
// C clients, each with a fresh session per login (GET /login for the CSRF token, then POST
// /login), against a Spawner at BCRYPT_COST=12; a login counts when it redirects to the
// dashboard, which includes Spawner's ensure-running of the person's container (Docker inspect).
import bcrypt from 'bcrypt';
import type { BenchContext } from './lib/context.js';
import { SessionClient } from './lib/http.js';
import type { SpawnerProcess } from './lib/spawner.js';
import { summarize } from './lib/stats.js';
import { PASSWORD, signUp } from './spawn.js';

const CONCURRENCY = 4;
const COST = 12;

/**
 * Steady-state rate: `concurrency` loops run `once` for warmup + window; only operations that
 * complete inside the window (all loops busy, before and after) are counted, so neither the
 * ramp-up nor the operations still in flight at the end bias the rate. Those are awaited, not
 * counted, so the next measurement starts on idle cores.
 */
async function throughput(
  concurrency: number,
  warmupMs: number,
  windowMs: number,
  once: (worker: number) => Promise<boolean>,
): Promise<{ perSecond: number; ok: number; failed: number; latencies: number[] }> {
  const start = performance.now();
  const [from, to] = [start + warmupMs, start + warmupMs + windowMs];
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      // Bounded by time; the count bound is a guard against a broken `once` that returns at once.
      for (let i = 0; performance.now() < to && i < 100_000; i++) {
        const began = performance.now();
        const success = await once(worker);
        const ended = performance.now();
        if (ended < from || ended > to) continue;
        if (success) {
          ok++;
          latencies.push(ended - began);
        } else failed++;
      }
    }),
  );
  return { perSecond: ok / (windowMs / 1000), ok, failed, latencies };
}

export async function benchLogin(ctx: BenchContext, deps: { spawner: SpawnerProcess }): Promise<void> {
  const warmupMs = 1_000;
  const windowMs = ctx.size(5_000, 3_000);
  const rounds = ctx.size(3, 2);
  const users = Array.from({ length: CONCURRENCY }, (_, i) => `lg${i}-${ctx.runId}`);
  for (const username of users) await signUp(new SessionClient('127.0.0.1', deps.spawner.port), username);

  const hash = await bcrypt.hash(PASSWORD, COST);
  const compare = async () => bcrypt.compare(PASSWORD, hash);
  const failures: string[] = [];
  const login = async (worker: number) => {
    try {
      const client = new SessionClient('127.0.0.1', deps.spawner.port);
      const token = await client.csrfToken('/login');
      const response = await client.postForm('/login', { _csrf: token, username: users[worker]!, password: PASSWORD });
      if (response.status === 303 && response.headers.location === '/dashboard') return true;
      failures.push(`${response.status} ${response.headers.location ?? ''}`);
    } catch (error) {
      failures.push((error as Error).message);
    }
    return false;
  };

  // Short alternating windows, so a machine that gets busier or quieter during the measurement
  // shifts both sides alike.
  const ceilingRounds: Awaited<ReturnType<typeof throughput>>[] = [];
  const loginRounds: Awaited<ReturnType<typeof throughput>>[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      ceilingRounds.push(await throughput(CONCURRENCY, warmupMs, windowMs, compare));
      loginRounds.push(await throughput(CONCURRENCY, warmupMs, windowMs, login));
    } else {
      loginRounds.push(await throughput(CONCURRENCY, warmupMs, windowMs, login));
      ceilingRounds.push(await throughput(CONCURRENCY, warmupMs, windowMs, compare));
    }
  }
  const total = (rs: typeof loginRounds) => ({
    perSecond: rs.reduce((sum, r) => sum + r.ok, 0) / ((rs.length * windowMs) / 1000),
    ok: rs.reduce((sum, r) => sum + r.ok, 0),
    failed: rs.reduce((sum, r) => sum + r.failed, 0),
    latencies: rs.flatMap((r) => r.latencies),
  });
  const logins = total(loginRounds);
  const ceiling = total(ceilingRounds);
  const ceilingRate = ceiling.perSecond;
  const ratio = logins.perSecond / ceilingRate;
  ctx.details.login = {
    concurrency: CONCURRENCY,
    bcryptCost: COST,
    rounds,
    windowSeconds: windowMs / 1000,
    ceilingPerRound: ceilingRounds.map((r) => r.perSecond),
    loginsPerRound: loginRounds.map((r) => r.perSecond),
    ceiling: { perSecond: ceilingRate, ok: ceiling.ok, latency: summarize(ceiling.latencies) },
    logins: { perSecond: logins.perSecond, ok: logins.ok, failed: logins.failed, latency: summarize(logins.latencies) },
    failures: failures.slice(0, 10),
  };
  const perRound = (rs: typeof loginRounds) => rs.map((r) => r.perSecond.toFixed(2)).join(', ');
  ctx.rows.push({
    id: 'login',
    benchmark: `login throughput (BCRYPT_COST=${COST}, ${CONCURRENCY} in flight)`,
    target: '≥ 95 % of ceiling',
    measured: `${logins.perSecond.toFixed(2)} logins/s`,
    baseline: `bcrypt.compare ceiling ${ceilingRate.toFixed(2)}/s`,
    ratio,
    pass: ratio >= 0.95 && logins.failed === 0,
    note: `${rounds} alternating rounds of ${windowMs / 1000} s: ceiling ${perRound(ceilingRounds)}/s, logins ${perRound(loginRounds)}/s; ${logins.ok} logins, ${logins.failed} failed; login p50 ${summarize(logins.latencies).p50.toFixed(0)} ms`,
  });
}
