// The idle sweep: every IDLE_SWEEP_INTERVAL it reads activity (one Traefik metrics scrape, one
// Docker list call), and stops containers nobody has used for CONTAINER_IDLE_TIMEOUT. Before a
// stop it looks for open connections and moving bytes, so a long download or a quiet websocket
// keeps a service alive. When in doubt (metrics unreachable, first look) it stops nothing.
import type { Logger } from '../logger.js';
import type { UserRepository } from '../db/users.js';
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
  users: UserRepository;
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
    const { containers, activity, probe, logger, idleTimeoutMs } = this.deps;
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
      const user = this.deps.users.findById(userId);
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
        if (idle >= idleTimeoutMs) {
          await containers.stop(user);
          report.stopped.push(name);
          logger.info({ container: name, idleSeconds: Math.round(idle / 1000) }, 'stopped idle paused container');
        }
        continue;
      }
      const stage = idle >= idleTimeoutMs ? 'stop' : pauseAfterMs > 0 && idle >= pauseAfterMs ? 'pause' : null;
      if (!stage) continue;
      const use = await probe.check(container.Id).catch(() => 'unknown' as const);
      if (use !== 'quiet') {
        if (use === 'in-use') {
          activity.touch(userId, now);
          report.keptByConnections.push(name);
        }
        continue;
      }
      probe.forget(container.Id);
      if (stage === 'pause') {
        await containers.pause(user);
        report.paused.push(name);
        logger.info({ container: name, idleSeconds: Math.round(idle / 1000) }, 'paused idle container');
        continue;
      }
      await containers.stop(user);
      report.stopped.push(name);
      logger.info({ container: name, idleSeconds: Math.round(idle / 1000) }, 'stopped idle container');
    }
    // Traefik keeps routing to paused containers until something makes it re-read Docker.
    if (report.paused.length > 0) await this.deps.nudge.nudge();
    activity.flush(this.deps.users);
    return report;
  }
}
