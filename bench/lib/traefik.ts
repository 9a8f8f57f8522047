// The real Traefik for the benchmarks, on loopback ports. Built like test/helpers/traefik.ts (same
// cached binary, same Docker provider settings) but with the knobs the benchmarks compare:
// Prometheus metrics on or off, and the providers throttle (how soon a Docker event is applied).
// Its Docker provider sees only this bench run's containers (label constraint).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { traefikBinary } from '../../test/helpers/traefik.js';
import { spawnerRoutes } from '../../test/helpers/spawnerServer.js';
import { BENCH_LABEL, freePort, sleep, type BenchContext, type Stoppable } from './context.js';
import { BENCH_DOMAIN } from './spawner.js';

export interface BenchTraefikOptions {
  /** Loopback port of the host-side Spawner that the fallback routes lead to. */
  spawnerPort: number;
  metrics: boolean;
  /** --providers.providersThrottleDuration; Traefik's default is 2s. */
  throttle?: string;
  name: string;
}

export class BenchTraefik implements Stoppable {
  readonly what: string;
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly webPort: number,
    readonly apiPort: number,
    name: string,
    private readonly dynamicFile: string,
    private readonly routes: ReturnType<typeof spawnerRoutes>,
  ) {
    this.what = `traefik ${name}`;
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  get api(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  static async start(ctx: BenchContext, options: BenchTraefikOptions): Promise<BenchTraefik> {
    const [webPort, apiPort] = [await freePort(), await freePort()];
    const dynamicFile = join(ctx.dir, `traefik-${options.name}.yml`);
    const routes = spawnerRoutes('spawner', BENCH_DOMAIN, options.spawnerPort);
    writeFileSync(dynamicFile, stringify({ http: routes }));
    const args = [
      `--entrypoints.web.address=127.0.0.1:${webPort}`,
      `--entrypoints.traefik.address=127.0.0.1:${apiPort}`,
      '--api.insecure=true',
      '--api.dashboard=false',
      '--ping=true',
      '--providers.docker.endpoint=unix:///var/run/docker.sock',
      '--providers.docker.exposedbydefault=false',
      `--providers.docker.network=${ctx.network}`,
      `--providers.docker.constraints=Label(\`${BENCH_LABEL}\`,\`${ctx.runId}\`)`,
      `--providers.file.filename=${dynamicFile}`,
      ...(options.throttle ? [`--providers.providersThrottleDuration=${options.throttle}`] : []),
      ...(options.metrics ? ['--metrics.prometheus=true', '--metrics.prometheus.entrypoint=traefik'] : []),
      '--global.checknewversion=false',
      '--global.sendanonymoususage=false',
      '--log.level=ERROR',
    ];
    const child = spawn(traefikBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const traefik = ctx.track(new BenchTraefik(child, webPort, apiPort, options.name, dynamicFile, routes));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`traefik exited at start:\n${traefik.output}`);
      try {
        if ((await fetch(`${traefik.api}/ping`, { signal: AbortSignal.timeout(500) })).ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`traefik did not start:\n${traefik.output}`);
      await sleep(100);
    }
    return traefik;
  }

  /**
   * Adds file-provider routers beside Spawner's own (the file provider watches its file), e.g. one
   * to `<container>@docker` without the access check; resolves once Traefik shows them enabled.
   */
  async addRouters(
    routers: Record<string, { rule: string; service: string; entryPoints: string[]; middlewares?: string[] }>,
  ): Promise<void> {
    writeFileSync(this.dynamicFile, stringify({ http: { ...this.routes, routers: { ...this.routes.routers, ...routers } } }));
    const deadline = Date.now() + 20_000;
    for (const name of Object.keys(routers)) {
      for (;;) {
        const response = await fetch(`${this.api}/api/http/routers/${encodeURIComponent(name)}@file`, {
          signal: AbortSignal.timeout(2000),
        });
        const status = response.ok ? ((await response.json()) as { status?: string }).status : (await response.body?.cancel(), undefined);
        if (status === 'enabled') break;
        if (Date.now() > deadline) throw new Error(`router ${name}@file not enabled in Traefik (${status ?? 'missing'}):\n${this.output}`);
        await sleep(100);
      }
    }
  }

  /** The router's status per Traefik's API, or null when it has no such router. */
  async routerStatus(name: string): Promise<string | null> {
    const response = await fetch(`${this.api}/api/http/routers/${encodeURIComponent(name)}@docker`, { signal: AbortSignal.timeout(2000) });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return ((await response.json()) as { status?: string }).status ?? 'unknown';
  }

  logs(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
