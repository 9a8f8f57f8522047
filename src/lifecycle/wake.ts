// Wake-on-request: starts a sleeping person's container once, however many requests ask, and
// tells every waiter the moment the service is reachable through the proxy.
import type { Logger } from '../logger.js';
import type { ContainerManager } from '../containers/manager.js';
import type { Person } from '../containers/naming.js';
import type { ActivityTracker } from './activity.js';
import { NotReady, type Readiness } from './readiness.js';

export type WakeResult = { ok: true } | { ok: false; reason: string };

export class WakeService {
  private readonly inFlight = new Map<number, Promise<WakeResult>>();

  constructor(
    private readonly containers: ContainerManager,
    private readonly readiness: Readiness,
    private readonly activity: ActivityTracker,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** Starts the person's container if needed and resolves when it is reachable (or why not). */
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
      await this.readiness.waitUntilReady(status.name, started + this.timeoutMs);
      this.logger.info({ user: person.username, ms: Date.now() - started }, 'woke container');
      return { ok: true };
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
