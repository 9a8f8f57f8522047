// Decides when a woken service can take the person's request: the container runs and its service
// answers — the image's Docker HEALTHCHECK says healthy if it has one, else an HTTP request over
// the Docker network gets any answer. Until Traefik has picked the route up (it applies Docker
// events after a 2 s throttle), Spawner forwards the person's requests itself (see proxy.ts).
import type { Config } from '../config.js';
import type { DockerEngine } from '../containers/engine.js';

const POLL_MS = 50;

export class NotReady extends Error {}

export interface ServiceAddress {
  host: string;
  port: number;
}

type ReadinessConfig = Pick<Config, 'traefik' | 'containers'>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Readiness {
  constructor(
    private readonly engine: DockerEngine,
    private readonly config: ReadinessConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Resolves with the service's address on the Docker network once it answers; NotReady at the deadline. */
  async waitForService(containerName: string, deadline: number): Promise<ServiceAddress> {
    while (Date.now() < deadline) {
      const info = await this.engine.inspectContainer(containerName);
      if (!info) throw new NotReady(`container ${containerName} does not exist`);
      const state = info.State;
      const host = info.NetworkSettings.Networks[this.config.traefik.network]?.IPAddress;
      const address = host ? { host, port: this.config.containers.port } : undefined;
      if (state.Running && !state.Paused && address) {
        const health = state.Health?.Status;
        if (health === 'healthy') return address;
        if (health === 'unhealthy') throw new NotReady('the service reports itself unhealthy');
        if ((health === undefined || health === 'none') && (await this.answers(address))) return address;
      } else if (!state.Running && !state.Restarting && state.Status !== 'created') {
        throw new NotReady(`the container stopped (exit code ${state.ExitCode})`);
      }
      await sleep(POLL_MS);
    }
    throw new NotReady('the service did not become ready in time');
  }

  private async answers(address: ServiceAddress): Promise<boolean> {
    try {
      // Any HTTP answer, even a 404, means the server is up.
      const response = await this.fetchImpl(`http://${address.host}:${address.port}/`, {
        signal: AbortSignal.timeout(1000),
        redirect: 'manual',
      });
      await response.body?.cancel();
      return true;
    } catch {
      return false;
    }
  }
}
