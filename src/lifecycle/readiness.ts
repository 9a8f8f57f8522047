// Decides when a woken service can take the person's request: the container runs, its service
// answers (Docker HEALTHCHECK if the image has one, else an HTTP probe over the Docker network),
// and Traefik has picked the route up (its API lists the service's server as UP). Redirecting any
// earlier would land the person on a 404 or 503.
import type { Config } from '../config.js';
import type { DockerEngine, ContainerInspect } from '../containers/engine.js';

/** Traefik applies a Docker start event after its 2 s providers throttle; without its API, wait this long. */
export const TRAEFIK_PICKUP_MS = 2500;
const POLL_MS = 100;

export class NotReady extends Error {}

type ReadinessConfig = Pick<Config, 'traefik' | 'containers' | 'traefikApi'>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Readiness {
  constructor(
    private readonly engine: DockerEngine,
    private readonly config: ReadinessConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Resolves when the service is reachable through Traefik; rejects with NotReady at the deadline. */
  async waitUntilReady(containerName: string, deadline: number): Promise<void> {
    const info = await this.waitForService(containerName, deadline);
    if (this.config.traefikApi.url) {
      await this.waitForTraefik(containerName, deadline);
    } else {
      const startedAt = new Date(info.State.StartedAt).getTime();
      const wait = startedAt + TRAEFIK_PICKUP_MS - Date.now();
      if (wait > 0) await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
    }
  }

  private async waitForService(name: string, deadline: number): Promise<ContainerInspect> {
    while (Date.now() < deadline) {
      const info = await this.engine.inspectContainer(name);
      if (!info) throw new NotReady(`container ${name} does not exist`);
      if (info.State.Running && !info.State.Paused) {
        const health = info.State.Health?.Status;
        if (health === 'healthy') return info;
        if (health === 'unhealthy') throw new NotReady('the service reports itself unhealthy');
        if (health === undefined || health === 'none') {
          if (await this.httpAnswers(info)) return info;
        }
      } else if (!info.State.Running && !info.State.Restarting && info.State.Status !== 'created') {
        throw new NotReady(`the container stopped (exit code ${info.State.ExitCode})`);
      }
      await sleep(POLL_MS);
    }
    throw new NotReady('the service did not become ready in time');
  }

  private async httpAnswers(info: ContainerInspect): Promise<boolean> {
    const ip = info.NetworkSettings.Networks[this.config.traefik.network]?.IPAddress;
    if (!ip) return false;
    try {
      // Any HTTP answer, even a 404, means the server is up.
      const response = await this.fetchImpl(`http://${ip}:${this.config.containers.port}/`, {
        signal: AbortSignal.timeout(1000),
        redirect: 'manual',
      });
      await response.body?.cancel();
      return true;
    } catch {
      return false;
    }
  }

  private async waitForTraefik(name: string, deadline: number): Promise<void> {
    const api = this.config.traefikApi.url;
    while (Date.now() < deadline) {
      try {
        const [router, service] = await Promise.all([
          this.getJson(`${api}/api/http/routers/${encodeURIComponent(name)}@docker`),
          this.getJson(`${api}/api/http/services/${encodeURIComponent(name)}@docker`),
        ]);
        const servers = Object.values((service?.serverStatus ?? {}) as Record<string, string>);
        if (router?.status === 'enabled' && servers.includes('UP')) return;
      } catch {
        // Traefik restarting or slow: keep waiting until the deadline.
      }
      await sleep(POLL_MS);
    }
    throw new NotReady('the proxy did not pick the service up in time');
  }

  private async getJson(url: string): Promise<Record<string, unknown> | null> {
    const response = await this.fetchImpl(url, { signal: AbortSignal.timeout(1000) });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return (await response.json()) as Record<string, unknown>;
  }
}
