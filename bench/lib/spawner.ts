// Spawner as it really runs: src/server.ts (the composition root) in a child process under tsx,
// listening on a loopback port, so signup, login and the dashboard pay for everything production
// pays for (logging, session store, rate-limit store, Docker calls), and its RSS can be read.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_IMAGE } from '../../test/helpers/testImage.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { BenchContext, Stoppable } from './context.js';
import { sleep } from './context.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = randomBytes(32).toString('hex');

/** The domain people's services live under in the benchmarks (never resolved: Host headers only). */
export const BENCH_DOMAIN = 'bench.test';

/** The environment every benchmark Spawner gets; `overrides` change single settings. */
export function spawnerEnv(ctx: BenchContext, overrides: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    SECRET_KEY: SECRET,
    BASE_DOMAIN: BENCH_DOMAIN,
    USER_TEMPLATE_IMAGE: TEST_IMAGE,
    CONTAINER_NAME_PREFIX: `b${ctx.runId}`,
    CONTAINER_EXTRA_LABELS: ctx.labelPair,
    TRAEFIK_NETWORK: ctx.network,
    DATABASE_PATH: join(ctx.dir, 'spawner.db'),
    LOG_LEVEL: 'info',
    // The benchmarks log in and sign up far more often than one person would.
    RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
    RATE_LIMIT_SIGNUP_PER_HOUR: '100000',
    WAKE_RATE_LIMIT_PER_MINUTE: '100000',
    // The access check Traefik runs is the one spawnerRoutes defines; services open to all here.
    TRAEFIK_AUTH_MIDDLEWARE: 'spawner-auth@file',
    SERVICE_ACCESS: 'public',
    ...overrides,
  };
}

/** The config a Spawner with this environment sees (for the raw baseline's spec). */
export function configFor(env: Record<string, string>): Readonly<Config> {
  return loadConfig(env);
}

export interface MemoryUse {
  rssKiB: number;
  peakKiB: number;
}

export class SpawnerProcess implements Stoppable {
  readonly what: string;
  private lines: string[] = [];
  private partial = '';
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly port: number,
    env: Record<string, string>,
  ) {
    this.what = `spawner on :${port}`;
    // Only what the bench gives, plus PATH: no .env file leaks in.
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        DOTENV_CONFIG_PATH: join(ROOT, '.env.does-not-exist'),
        ...env,
        SPAWNER_PORT: String(port),
        SPAWNER_LISTEN_HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      const text = this.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      // Keep the memory of the log bounded: only the recent lines matter for diagnostics.
      if (this.lines.length > 2000) this.lines = this.lines.slice(-1000);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  static async start(ctx: BenchContext, port: number, env: Record<string, string>): Promise<SpawnerProcess> {
    const server = ctx.track(new SpawnerProcess(port, env));
    await server.ready();
    return server;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves once /health answers (any status); bounded. */
  private async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`spawner exited at start:\n${this.tail(40)}`);
      try {
        await fetch(`http://127.0.0.1:${this.port}/health`, { signal: AbortSignal.timeout(2000) });
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error(`spawner did not answer within ${timeoutMs} ms:\n${this.tail(40)}`);
  }

  /** The last n log lines, for error messages. */
  tail(n: number): string {
    return [...this.lines, this.partial].slice(-n).join('\n');
  }

  /** Parsed JSON log lines whose msg matches. */
  logged(msg: string): Record<string, unknown>[] {
    return this.lines
      .filter((line) => line.includes(msg))
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return {};
        }
      })
      .filter((entry) => entry.msg === msg);
  }

  /** Resident and peak resident memory of the Spawner process, from /proc. */
  memory(): MemoryUse {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
  }

  /** SIGTERM (Spawner's graceful shutdown), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
