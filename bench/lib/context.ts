// What every benchmark shares: the run id and label, the Docker client, the bench's own network,
// the child processes it started, bounded helpers, and clean-up by label that runs exactly once,
// also after a failure or Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import Docker from 'dockerode';

export const BENCH_LABEL = 'spawner.bench';

/** Between two endpoint deletions on the bench network (see removeContainers). */
const REMOVAL_PAUSE_MS = 30;

/** Every Docker call of the bench gives up after this long instead of hanging with the engine. */
const DOCKER_TIMEOUT_MS = 120_000;

export interface Row {
  id: string;
  benchmark: string;
  target: string;
  measured: string;
  baseline: string;
  /** measured / baseline where that makes sense. */
  ratio: number | null;
  /** null: nothing to pass (not implemented, or information only). */
  pass: boolean | null;
  note?: string;
}

export interface Stoppable {
  what: string;
  stop(): Promise<void>;
}

export class BenchContext {
  readonly runId = randomBytes(4).toString('hex');
  readonly docker = new Docker({ socketPath: '/var/run/docker.sock', timeout: DOCKER_TIMEOUT_MS });
  readonly dir = mkdtempSync(join(tmpdir(), 'spawner-bench-'));
  readonly network = `spawner-bench-${this.runId}`;
  readonly rows: Row[] = [];
  readonly details: Record<string, unknown> = {};
  private readonly running = new Set<Stoppable>();
  private cleaned: Promise<void> | undefined;

  constructor(readonly quick: boolean) {}

  get labelPair(): string {
    return `${BENCH_LABEL}=${this.runId}`;
  }

  log(message: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  }

  /** Picks the full or the quick value. */
  size<T>(full: T, quick: T): T {
    return this.quick ? quick : full;
  }

  track<T extends Stoppable>(thing: T): T {
    this.running.add(thing);
    return thing;
  }

  async stop(thing: Stoppable): Promise<void> {
    this.running.delete(thing);
    await thing.stop();
  }

  async createNetwork(): Promise<void> {
    // Isolated as Spawner wants people's network (CONTAINER_ISOLATION=on).
    await this.docker.createNetwork({
      Name: this.network,
      Driver: 'bridge',
      Labels: { [BENCH_LABEL]: this.runId },
      Options: { 'com.docker.network.bridge.enable_icc': 'false' },
    });
  }

  /**
   * Removes every container carrying this run's label. Containers that ever ran are removed one
   * at a time with a short pause: Debian's Docker 20.10.24 can deadlock its network controller
   * when several endpoints on one network are deleted at once (moby/moby#42545, fixed upstream in
   * 20.10.27); a wedged engine hangs every client on the machine. Never-started containers have
   * no network endpoint and go `limit` at a time.
   */
  async removeContainers(extraFilters: string[] = []): Promise<number> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [this.labelPair, ...extraFilters] } });
    const remove = (id: string) =>
      this.docker
        .getContainer(id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    await mapLimit(
      list.filter((c) => c.State === 'created'),
      8,
      (c) => remove(c.Id),
    );
    for (const c of list.filter((c) => c.State !== 'created')) {
      await remove(c.Id);
      await sleep(REMOVAL_PAUSE_MS);
    }
    return list.length;
  }

  /** Stops running containers one at a time, for the same reason as removeContainers. */
  async stopOneByOne(names: readonly string[]): Promise<void> {
    for (const name of names) {
      await this.docker.getContainer(name).stop({ t: 10 });
      await sleep(REMOVAL_PAUSE_MS);
    }
  }

  /** Stops what the bench started and removes what it created in Docker; runs once. */
  cleanup(): Promise<void> {
    this.cleaned ??= (async () => {
      for (const thing of [...this.running].reverse()) {
        await thing.stop().catch((error: unknown) => this.log(`stopping ${thing.what} failed: ${String(error)}`));
      }
      this.running.clear();
      const filter = { label: [this.labelPair] };
      const removed = await this.removeContainers().catch(() => 0);
      const { Volumes } = await this.docker.listVolumes({ filters: filter }).catch(() => ({ Volumes: [] as Docker.VolumeInspectInfo[] }));
      await mapLimit(Volumes ?? [], 8, (v) =>
        this.docker
          .getVolume(v.Name)
          .remove()
          .catch(() => undefined),
      );
      const networks = await this.docker.listNetworks({ filters: filter }).catch(() => []);
      for (const n of networks) {
        await this.docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => undefined);
      }
      rmSync(this.dir, { recursive: true, force: true });
      this.log(
        `cleaned up: ${removed} containers, ${(Volumes ?? []).length} volumes, ${networks.length} networks (label ${this.labelPair})`,
      );
    })();
    return this.cleaned;
  }
}

/** Runs fn over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${String(last)})` : ''}`);
}

/** A free loopback port (another process could take it in the short window before it is used). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no free port');
  return address.port;
}
