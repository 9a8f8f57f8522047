// Wake-on-request: starts a sleeping person's workload once, however many requests ask, and
// tells every waiter the moment the service answers, with its address. It follows the manager's
// events: a workload that is stopping, paused or removed no longer has the address it had.
import type { Logger } from '../logger.js';
import type { ContainerManager } from '../containers/manager.js';
import type { Person } from '../containers/naming.js';
import type { ProgressReporter } from '../containers/events.js';
import type { ActivityTracker } from './activity.js';
import { NotReady, type Readiness, type ServiceAddress } from './readiness.js';

export type WakeResult = { ok: true; address: ServiceAddress } | { ok: false; reason: string; busy?: true };

/** What a wake refused for capacity says; the route answers 503 too_many_wakes. */
const BUSY: WakeResult = { ok: false, busy: true, reason: 'Many services are starting right now. Please try again in a few seconds.' };

/** What a wake request gets, from what the wake achieved within the hold (null: not done yet). */
export type WakeAnswer = 'forward' | 'starting-page' | 'hold-on' | 'unavailable';

/**
 * Hold or page: a service that answered within the hold gets the request directly; a browser whose
 * service is still starting gets the starting page; a program is held until the wake ends; a wake
 * that failed within the hold is a 503 with its reason.
 */
export function holdOrPage(withinHold: WakeResult | null, browser: boolean): WakeAnswer {
  if (withinHold === null) return browser ? 'starting-page' : 'hold-on';
  return withinHold.ok ? 'forward' : 'unavailable';
}

/** How long a woken service's address is trusted without asking the backend again (Traefik's pickup gap). */
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
    /** Wakes in progress at once (MAX_CONCURRENT_WAKES); beyond it nothing is asked of the backend. */
    private readonly maxConcurrent: number = Number.POSITIVE_INFINITY,
    private readonly hooks: {
      /** Hears 'waiting' and 'ready' (or 'failed') of the spawn the wake caused. */
      progress?: ProgressReporter;
      /** Hears each wake's end and length (the wake-duration metric). */
      onWakeEnd?: (result: 'success' | 'failure', seconds: number) => void;
    } = {},
  ) {
    // A stopping, restarting, paused or removed workload's address is no longer the service's.
    containers.events.on('stopping', (event) => this.forget(event.person.id));
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

  /** Starts the person's workload if needed and resolves when its service answers (or why not). */
  wake(person: Person): Promise<WakeResult> {
    let pending = this.inFlight.get(person.id);
    if (!pending && this.inFlight.size >= this.maxConcurrent) return Promise.resolve(BUSY);
    this.activity.touch(person.id);
    if (!pending) {
      pending = this.doWake(person).finally(() => this.inFlight.delete(person.id));
      this.inFlight.set(person.id, pending);
    }
    return pending;
  }

  private async doWake(person: Person): Promise<WakeResult> {
    const started = Date.now();
    try {
      const plan = await this.containers.plan(person);
      await this.containers.ensureRunning(person, 'wake');
      this.hooks.progress?.report(person, 'waiting');
      const address = await this.readiness.waitForService(plan, started + this.timeoutMs);
      this.recent.set(person.id, { address, at: Date.now() });
      this.logger.info({ user: person.username, ms: Date.now() - started }, 'service awake');
      this.hooks.progress?.report(person, 'ready');
      this.hooks.onWakeEnd?.('success', (Date.now() - started) / 1000);
      return { ok: true, address };
    } catch (error) {
      const reason =
        error instanceof NotReady
          ? `Your service did not start: ${error.message}.`
          : (this.containers.errorStatus(person, error).detail ?? 'Your service could not be started.');
      this.logger.warn({ err: error, user: person.username }, 'wake failed');
      // The manager already told a failed start; a service that never answered is told here.
      if (error instanceof NotReady) this.hooks.progress?.report(person, 'failed', reason);
      this.hooks.onWakeEnd?.('failure', (Date.now() - started) / 1000);
      return { ok: false, reason };
    }
  }
}
