// Wake-on-request: starts a sleeping person's container once, however many requests ask, and
// tells every waiter the moment the service answers, with its address on the Docker network.
import type { Logger } from '../logger.js';
import type { ContainerManager } from '../containers/manager.js';
import type { Person } from '../containers/naming.js';
import type { ActivityTracker } from './activity.js';
import { NotReady, type Readiness, type ServiceAddress } from './readiness.js';

export type WakeResult = { ok: true; address: ServiceAddress } | { ok: false; reason: string };

/** How long a woken service's address is trusted without asking Docker again (Traefik's pickup gap). */
const RECENT_MS = 5_000;

export class WakeService {
  private readonly inFlight = new Map<number, Promise<WakeResult>>();
  private readonly recent = new Map<number, { address: ServiceAddress; at: number }>();

  constructor(
    private readonly containers: ContainerManager,
    private readonly readiness: Readiness,
    private readonly activity: ActivityTracker,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {
    // A stopped, restarted or removed container's address is no longer the service's.
    containers.onStopped((personId) => this.forget(personId));
  }

  forget(personId: number): void {
    this.recent.delete(personId);
  }

  /** The address of a service that answered within the last seconds: the request can go straight there. */
  recentAddress(person: Person): ServiceAddress | undefined {
    const known = this.recent.get(person.id);
    if (known && Date.now() - known.at < RECENT_MS) return known.address;
    this.recent.delete(person.id);
    return undefined;
  }

  /** Starts the person's container if needed and resolves when its service answers (or why not). */
  wake(person: Person): Promise<WakeResult> {
    this.activity.touch(person.id);
    let pending = this.inFlight.get(person.id);
    if (!pending) {
      pending = this.doWake(person).finally(() => this.inFlight.delete(person.id));
      this.inFlight.set(person.id, pending);
    }
    return pending;
  }

  private async doWake(person: Person): Promise<WakeResult> {
    const started = Date.now();
    try {
      const status = await this.containers.ensureRunning(person);
      const address = await this.readiness.waitForService(status.name, started + this.timeoutMs);
      this.recent.set(person.id, { address, at: Date.now() });
      this.logger.info({ user: person.username, ms: Date.now() - started }, 'service awake');
      return { ok: true, address };
    } catch (error) {
      const reason =
        error instanceof NotReady
          ? `Your service did not start: ${error.message}.`
          : (this.containers.errorStatus(person, error).detail ?? 'Your service could not be started.');
      this.logger.warn({ err: error, user: person.username }, 'wake failed');
      return { ok: false, reason };
    }
  }
}
