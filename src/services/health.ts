// The health report Traefik, Docker and monitors read: is the database answering, is Docker?
// It never throws and never waits longer than the Docker ping timeout. A monitor may ask many
// times a second: Docker's answer is shared by every request while a ping is in flight and a
// good one is kept for at most a second (dropped at once when the event stream to the engine
// breaks, which is the earliest sign of an outage), so /health costs the engine one ping a
// second however often it is asked. A failed ping is not kept: recovery shows on the next request.
import type { DatabaseHealth } from '../db/stores.js';
import type { ContainerBackend } from '../containers/backend.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  checks: { database: 'ok' | 'error'; docker: 'ok' | 'error' };
}

type Check = 'ok' | 'error';

/** One check's answer shared by concurrent callers, and a good answer kept for maxAgeMs. */
class SharedCheck {
  private inFlight: Promise<Check> | undefined;
  private okAt = -Infinity;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  read(): Promise<Check> {
    if (this.now() - this.okAt < this.maxAgeMs) return Promise.resolve('ok');
    this.inFlight ??= this.run().then(
      () => {
        this.okAt = this.now();
        return 'ok' as const;
      },
      () => 'error' as const,
    );
    const pending = this.inFlight;
    void pending.finally(() => {
      if (this.inFlight === pending) this.inFlight = undefined;
    });
    return pending;
  }

  forget(): void {
    this.okAt = -Infinity;
  }
}

export class HealthService {
  private readonly dockerCheck: SharedCheck;
  private readonly databaseCheck: SharedCheck;

  constructor(
    database: DatabaseHealth,
    engine: Pick<ContainerBackend, 'ping'>,
    private readonly options: { version: string; dockerTimeoutMs: number; maxAgeMs?: number; now?: () => number },
  ) {
    const maxAge = options.maxAgeMs ?? 1000;
    const now = options.now ?? Date.now;
    this.dockerCheck = new SharedCheck(() => engine.ping(options.dockerTimeoutMs), maxAge, now);
    this.databaseCheck = new SharedCheck(() => database.ping(), maxAge, now);
  }

  async check(): Promise<HealthReport> {
    const [database, docker] = await Promise.all([this.databaseCheck.read(), this.dockerCheck.read()]);
    return {
      status: database === 'ok' && docker === 'ok' ? 'ok' : 'degraded',
      version: this.options.version,
      checks: { database, docker },
    };
  }

  /** Something saw the engine go away (the event stream dropped): ask it again next time. */
  forgetDocker(): void {
    this.dockerCheck.forget();
  }
}
