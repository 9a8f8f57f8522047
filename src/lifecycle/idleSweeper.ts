// The idle sweep: every IDLE_SWEEP_INTERVAL it reads activity (one Traefik metrics scrape, one
// Docker list call), and stops containers nobody has used for CONTAINER_IDLE_TIMEOUT. Before a
// stop it looks for open connections and moving bytes, so a long download or a quiet websocket
// keeps a service alive. When in doubt (metrics unreachable, first look) it stops nothing.
import type { Logger } from '../logger.js';
import type { User, UserStore } from '../db/stores.js';

/** How many idle candidates one sweep examines at the same time. */
const PROBE_CONCURRENCY = 4;
import type { ContainerManager } from '../containers/manager.js';
import type { ActivityTracker } from './activity.js';
import type { RequestCounter } from './traefikMetrics.js';
import type { ConnectionProbe } from './connections.js';

export interface SweepReport {
  checked: number;
  stopped: string[];
  paused: string[];
  keptByConnections: string[];
  skipped?: string;
}

export interface IdleSweeperDeps {
  containers: ContainerManager;
  users: UserStore;
  activity: ActivityTracker;
  probe: ConnectionProbe;
  metrics: RequestCounter | undefined;
  logger: Logger;
  idleTimeoutMs: number;
  /** Pause (a first, instantly reversible stage) after this long unused; 0 = no pause stage. */
  pauseAfterMs: number;
  /** Makes Traefik re-read Docker, so that a paused service's requests reach the wake fallback. */
  nudge: { nudge(): Promise<void> };
  intervalMs: number;
  now?: () => number;
}

export class IdleSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepReport> | undefined;
  private readonly lastCounts = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly deps: IdleSweeperDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.deps.idleTimeoutMs <= 0 || this.timer) return;
    this.timer = setInterval(
      () => void this.sweep().catch((error: unknown) => this.deps.logger.error({ err: error }, 'idle sweep failed')),
      this.deps.intervalMs,
    );
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress, so shutdown never cuts one in half. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One sweep; concurrent calls share the sweep in progress. */
  sweep(): Promise<SweepReport> {
    this.running ??= this.doSweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async doSweep(): Promise<SweepReport> {
    const { containers, activity, logger, idleTimeoutMs } = this.deps;
    const report: SweepReport = { checked: 0, stopped: [], paused: [], keptByConnections: [] };
    const { pauseAfterMs } = this.deps;
    const now = this.now();
    let counts: Map<string, number> | undefined;
    if (this.deps.metrics) {
      try {
        counts = await this.deps.metrics.read();
      } catch (error) {
        // Without the activity source nobody's idleness is known: stop nothing this time.
        logger.warn({ err: error }, 'Traefik metrics unreachable; no container is stopped this sweep');
        report.skipped = 'metrics unreachable';
      }
    }
    const managed = await containers.listManaged();
    // One query for everyone instead of one per container: the sweep must not stall the server.
    const users = new Map((await this.deps.users.all()).map((u) => [u.id, u]));
    const candidates: { container: (typeof managed)[number]; user: User; name: string; idle: number; stage: 'pause' | 'stop' }[] = [];
    for (const container of managed) {
      const userId = Number(container.Labels['spawner.user_id']);
      const name = container.Names[0]?.replace(/^\//, '') ?? '';
      if (!Number.isInteger(userId) || (container.State !== 'running' && container.State !== 'paused')) continue;
      if (counts) {
        const count = counts.get(name) ?? 0;
        const before = this.lastCounts.get(name);
        this.lastCounts.set(name, count);
        if (before !== undefined && count !== before) activity.touch(userId, now);
      }
      const user = users.get(userId);
      // Another Spawner on the same engine (other prefix or database) owns containers too.
      if (!user || containers.nameFor(user) !== name) continue;
      report.checked++;
      const last = activity.lastActivity(userId);
      if (last === undefined) {
        // Running before Spawner (re)started: its idleness is unknown, so its clock starts now.
        activity.touch(userId, now);
        continue;
      }
      const idle = now - last;
      if (idleTimeoutMs <= 0 || report.skipped) continue;
      if (container.State === 'paused') {
        // Frozen since it was found quiet; nothing could use it without waking it first.
        if (idle >= idleTimeoutMs) candidates.push({ container, user, name, idle, stage: 'stop' });
        continue;
      }
      const stage = idle >= idleTimeoutMs ? 'stop' : pauseAfterMs > 0 && idle >= pauseAfterMs ? 'pause' : null;
      if (stage) candidates.push({ container, user, name, idle, stage });
    }
    // A few at a time: when many people leave at once, one slow container must not hold up the rest.
    for (let i = 0; i < candidates.length; i += PROBE_CONCURRENCY) {
      await Promise.all(candidates.slice(i, i + PROBE_CONCURRENCY).map((c) => this.settle(c, now, report)));
    }
    // Traefik keeps routing to paused containers until something makes it re-read Docker.
    if (report.paused.length > 0) await this.deps.nudge.nudge();
    await activity.flush(this.deps.users);
    return report;
  }

  /** Pauses or stops one candidate unless it turns out to be in use after all. */
  private async settle(
    c: { container: { Id: string; State: string }; user: User; name: string; idle: number; stage: 'pause' | 'stop' },
    now: number,
    report: SweepReport,
  ): Promise<void> {
    const { containers, activity, probe, logger } = this.deps;
    const seconds = Math.round(c.idle / 1000);
    if (c.container.State === 'running') {
      const use = await probe.check(c.container.Id).catch(() => 'unknown' as const);
      if (use !== 'quiet') {
        if (use === 'in-use') {
          activity.touch(c.user.id, now);
          report.keptByConnections.push(c.name);
        }
        return;
      }
      probe.forget(c.container.Id);
    }
    if (c.stage === 'pause') {
      await containers.pause(c.user);
      report.paused.push(c.name);
      logger.info({ container: c.name, idleSeconds: seconds }, 'paused idle container');
      return;
    }
    await containers.stop(c.user);
    report.stopped.push(c.name);
    logger.info({ container: c.name, idleSeconds: seconds }, 'stopped idle container');
  }
}
