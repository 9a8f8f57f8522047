// Spawn: a signup on a listening Spawner (real HTTP POST /signup) until the new container answers
// HTTP on its Docker-network address, against raw dockerode create + start + first 200 of the
// same container spec. Samples alternate between the two so both see the same engine load.
import type { Config } from '../src/config.js';
import type { ImageFacts } from '../src/containers/docker/spec.js';
import type { BenchContext } from './lib/context.js';
import { SessionClient, pollUntil200 } from './lib/http.js';
import { DbPeek } from './lib/peek.js';
import { containerIp, rawSpawn } from './lib/raw.js';
import type { SpawnerProcess } from './lib/spawner.js';
import { since, summarize } from './lib/stats.js';

export const PASSWORD = 'correct horse battery';

/** Signs a person up through the form; resolves when POST /signup has answered 303. */
export async function signUp(client: SessionClient, username: string): Promise<void> {
  const token = await client.csrfToken('/signup');
  const response = await client.postForm('/signup', { _csrf: token, username, email: `${username}@bench.test`, password: PASSWORD });
  if (response.status !== 303 || response.headers.location !== '/dashboard') {
    throw new Error(`signup of ${username}: ${response.status} ${response.headers.location ?? ''} ${response.text.slice(0, 200)}`);
  }
}

export async function benchSpawn(
  ctx: BenchContext,
  deps: { spawner: SpawnerProcess; config: Readonly<Config>; facts: ImageFacts; dbPath: string },
): Promise<void> {
  const { spawner, config, facts } = deps;
  const samples = ctx.size(15, 5);
  const warmup = 1;
  const peek = new DbPeek(deps.dbPath);
  const spawnerMs: number[] = [];
  const signupMs: number[] = [];
  const rawMs: number[] = [];
  try {
    for (let i = 0; i < samples + warmup; i++) {
      const viaSpawner = async () => {
        const username = `sp${i}-${ctx.runId}`;
        const client = new SessionClient('127.0.0.1', spawner.port);
        const token = await client.csrfToken('/signup');
        const t0 = performance.now();
        const response = await client.postForm('/signup', { _csrf: token, username, email: `${username}@bench.test`, password: PASSWORD });
        const answered = since(t0);
        if (response.status !== 303) throw new Error(`signup answered ${response.status}: ${response.text.slice(0, 300)}`);
        const name = `${config.containers.namePrefix}-${username}-${peek.userId(username)}`;
        await pollUntil200(await containerIp(ctx.docker, name, config.traefik.network), config.containers.port);
        const total = since(t0);
        if (i >= warmup) {
          spawnerMs.push(total);
          signupMs.push(answered);
        }
        return name;
      };
      const viaRaw = async () => {
        const { ms, id } = await rawSpawn(ctx.docker, config, facts, { id: 900_000 + i, username: `rw${i}-${ctx.runId}` });
        if (i >= warmup) rawMs.push(ms);
        return id;
      };
      // Alternate which goes first, so neither always runs right after a removal.
      const made = i % 2 === 0 ? [await viaSpawner(), await viaRaw()] : [await viaRaw(), await viaSpawner()];
      for (const id of made) await ctx.docker.getContainer(id).remove({ force: true });
    }
  } finally {
    peek.close();
  }
  const s = summarize(spawnerMs);
  const r = summarize(rawMs);
  const ratio = s.p50 / r.p50;
  ctx.details.spawn = { spawner: s, signupResponse: summarize(signupMs), raw: r, samples, bcryptCost: 4 };
  ctx.rows.push({
    id: 'spawn',
    benchmark: 'spawn: signup → container answers HTTP (BCRYPT_COST=4)',
    target: 'ratio ≤ 1.15',
    measured: `p50 ${s.p50.toFixed(0)} ms (p90 ${s.p90.toFixed(0)})`,
    baseline: `raw create+start+200: p50 ${r.p50.toFixed(0)} ms (p90 ${r.p90.toFixed(0)})`,
    ratio,
    pass: ratio <= 1.15,
    note: `n=${samples} each; POST /signup itself answered in p50 ${summarize(signupMs).p50.toFixed(0)} ms`,
  });
}
