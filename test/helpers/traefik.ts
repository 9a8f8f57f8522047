// Runs the real Traefik v3.6 binary (built from its Go module by scripts/build-traefik.sh, cached
// outside the repo) on loopback ports only, with the Docker provider restricted to this test run's
// containers and a file provider for routes to a Spawner that listens on the host.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TEST_RUN_LABEL } from './docker.js';
import { freePort } from './ports.js';

const REPO = join(import.meta.dirname, '..', '..');

let binary: string | undefined;

/** Path of the cached Traefik binary; builds it on first use (minutes once, then instant). */
export function traefikBinary(): string {
  binary ??= execFileSync('bash', [join(REPO, 'scripts', 'build-traefik.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
  return binary;
}

export interface TraefikOptions {
  runId: string;
  network: string;
  /** Dynamic configuration for the file provider (routers and services to a host-side Spawner). */
  dynamic?: Record<string, unknown>;
  /** A TLS entrypoint `websecure` too (self-signed default certificate). */
  tls?: boolean;
  /** Further static configuration flags (e.g. a certificate resolver); `{dir}` becomes a scratch directory. */
  args?: string[];
  /** A further Docker-provider constraint ANDed to the run's, e.g. Label(`spawner.test-file`,`routing`). */
  constraint?: string;
}

export interface Traefik {
  web: string;
  websecure?: string;
  api: string;
  webPort: number;
  websecurePort?: number;
  logs(): string;
  stop(): Promise<void>;
  /** GET on the API, parsed. */
  get<T = unknown>(path: string): Promise<T>;
}

export async function startTraefik(options: TraefikOptions): Promise<Traefik> {
  const bin = traefikBinary();
  const dir = mkdtempSync(join(tmpdir(), 'spawner-traefik-'));
  const [webPort, apiPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const dynamicFile = join(dir, 'dynamic.yml');
  writeFileSync(dynamicFile, stringify(options.dynamic ?? { http: {} }));
  const args = [
    `--entrypoints.web.address=127.0.0.1:${webPort}`,
    `--entrypoints.traefik.address=127.0.0.1:${apiPort}`,
    ...(options.tls ? [`--entrypoints.websecure.address=127.0.0.1:${tlsPort}`] : []),
    '--api.insecure=true',
    '--api.dashboard=false',
    '--ping=true',
    '--providers.docker.endpoint=unix:///var/run/docker.sock',
    '--providers.docker.exposedbydefault=false',
    `--providers.docker.network=${options.network}`,
    // Only this test run's containers, never anyone else's on the same engine.
    `--providers.docker.constraints=Label(\`${TEST_RUN_LABEL}\`,\`${options.runId}\`)${options.constraint ? ` && ${options.constraint}` : ''}`,
    `--providers.file.filename=${dynamicFile}`,
    '--metrics.prometheus=true',
    '--metrics.prometheus.entrypoint=traefik',
    '--global.checknewversion=false',
    '--global.sendanonymoususage=false',
    '--log.level=INFO',
    ...(options.args ?? []).map((a) => a.replaceAll('{dir}', dir)),
  ];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const api = `http://127.0.0.1:${apiPort}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`traefik exited at start:\n${output}`);
    try {
      const response = await fetch(`${api}/ping`, { signal: AbortSignal.timeout(500) });
      if (response.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`traefik did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    web: `http://127.0.0.1:${webPort}`,
    ...(options.tls ? { websecure: `https://127.0.0.1:${tlsPort}`, websecurePort: tlsPort } : {}),
    api,
    webPort,
    logs: () => output,
    async get<T>(path: string): Promise<T> {
      const response = await fetch(`${api}${path}`, { signal: AbortSignal.timeout(2000) });
      if (!response.ok) throw new Error(`GET ${path} → ${response.status}: ${await response.text()}`);
      return (await response.json()) as T;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 100 ms until it returns a truthy value or `ms` pass. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Static flags for a certificate resolver that can never get a certificate, offline: its ACME
 * server is a loopback port nobody listens on, so every request fails at once and Traefik serves
 * its self-signed default certificate.
 */
export async function offlineResolverArgs(resolver: string): Promise<string[]> {
  const closedPort = await freePort();
  return [
    `--certificatesresolvers.${resolver}.acme.caserver=https://127.0.0.1:${closedPort}/directory`,
    `--certificatesresolvers.${resolver}.acme.storage={dir}/acme.json`,
    `--certificatesresolvers.${resolver}.acme.email=ops@example.test`,
    `--certificatesresolvers.${resolver}.acme.tlschallenge=true`,
  ];
}

/**
 * A request through Traefik with the given Host header (node's fetch cannot set Host). `secure`
 * goes to the `websecure` entrypoint with the host as SNI and accepts Traefik's self-signed
 * default certificate.
 */
export async function viaTraefik(
  traefik: Traefik,
  host: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number; secure?: boolean } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const { request } = init.secure ? await import('node:https') : await import('node:http');
  if (init.secure && !traefik.websecurePort) throw new Error('this Traefik has no websecure entrypoint (start it with tls: true)');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: init.secure ? traefik.websecurePort : traefik.webPort,
        path,
        method: init.method ?? 'GET',
        headers: { host, ...init.headers },
        timeout: init.timeoutMs ?? 30_000,
        ...(init.secure ? { servername: host.replace(/:\d+$/, ''), rejectUnauthorized: false } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.end(init.body);
  });
}
