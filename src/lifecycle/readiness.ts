// Decides when a woken service can take the person's request: the workload runs and its service
// answers — the image's health check says healthy if it has one, else an HTTP request on the
// plan's readiness path gets any answer. Until Traefik has picked the route up (it applies Docker
// events after a 2 s throttle), Spawner forwards the person's requests itself (see proxy.ts).
import type { ContainerBackend, ServiceAddress } from '../containers/backend.js';
import type { WorkloadPlan } from '../containers/plan.js';

export type { ServiceAddress } from '../containers/backend.js';

const POLL_MS = 50;

export class NotReady extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Readiness {
  constructor(
    private readonly backend: Pick<ContainerBackend, 'readiness'>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Resolves with the service's address once it answers; NotReady at the deadline. */
  async waitForService(plan: Pick<WorkloadPlan, 'name' | 'readiness'>, deadline: number): Promise<ServiceAddress> {
    while (Date.now() < deadline) {
      const look = await this.backend.readiness(plan.name);
      if (look.phase === 'missing') throw new NotReady(`container ${plan.name} does not exist`);
      const up = look.phase === 'running' || look.phase === 'restarting';
      if (up && look.address) {
        // kind 'http' (a template's readiness path) asks the service whatever its health check says.
        const useHealth = plan.readiness.kind === 'healthcheck-or-http' && look.health !== 'none';
        if (useHealth && look.health === 'healthy') return look.address;
        if (useHealth && look.health === 'unhealthy') throw new NotReady('the service reports itself unhealthy');
        if (!useHealth && (await this.answers(look.address, plan.readiness.path))) return look.address;
      } else if (look.phase === 'exited') {
        throw new NotReady(`the container stopped (exit code ${look.exitCode})`);
      }
      await sleep(POLL_MS);
    }
    throw new NotReady('the service did not become ready in time');
  }

  private async answers(address: ServiceAddress, path: string): Promise<boolean> {
    try {
      // Any HTTP answer, even a 404, means the server is up.
      const response = await this.fetchImpl(`http://${address.host}:${address.port}${path}`, {
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
