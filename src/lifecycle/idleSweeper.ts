// The idle sweep: every IDLE_SWEEP_INTERVAL it reads activity (one Traefik metrics scrape, one
// backend list call), and pauses or stops workloads nobody has used for their plan's idle times.
// Before either it looks for open connections and moving bytes, so a long download or a quiet
// websocket keeps a service alive. When in doubt (metrics unreachable, first look) it stops
// nothing. A backend that cannot pause (Swarm) only ever gets stops. After a pause the Traefik
// nudge, which follows the manager's events, makes Traefik drop the paused route.
import type { Logger } from '../logger.js';
import type { User, UserStore } from '../db/stores.js';
import type { ManagedWorkload } from '../containers/backend.js';
import type { ContainerManager } from '../containers/manager.js';
import type { WorkloadPlan } from '../containers/plan.js';
import type { ActivityTracker } from './activity.js';
import type { RequestCounter } from './traefikMetrics.js';

/** How many idle candidates one sweep examines at the same time. */
const PROBE_CONCURRENCY = 4;

export type IdleStage = 'pause' | 'stop';

/**
 * What an unused workload is due for: a paused one only the stop (it was found quiet before); a
 * running one the stop after the idle timeout, else the pause after its pause time, if the backend
 * can pause at all. null: nothing yet (or idle shutdown is off for it).
 */
export function idleStage(idleMs: number, policy: WorkloadPlan['idle'], state: 'running' | 'paused', canPause: boolean): IdleStage | null {
  if (policy.idleTimeoutMs <= 0) return null;
  if (idleMs >= policy.idleTimeoutMs) return 'stop';
  if (state === 'paused') return null;
  return canPause && policy.pauseAfterMs > 0 && idleMs >= policy.pauseAfterMs ? 'pause' : null;
}

interface Candidate {
  workload: ManagedWorkload;
  user: User;
  idle: number;
  stage: IdleStage;
}

export interface SweepReport {
  checked: number;
  stopped: string[];
  paused: string[];
  keptByConnections: string[];
  /** This Spawner's workloads whose account is gone, removed (their volumes stay). */
  removedOrphans: string[];
  skipped?: string;
}

export interface IdleSweeperDeps {
  containers: ContainerManager;
  users: UserStore;
  activity: ActivityTracker;
  metrics: RequestCounter | undefined;
  logger: Logger;
  /** Off without Traefik's metrics (use cannot be seen) or without an idle timeout. */
  enabled: boolean;
  intervalMs: number;
  /** Whether this process sweeps on its timer now: of several replicas only the leader does. */
  isLeader?: () => boolean;
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

  /** Runs even with idle shutdown off: orphans are removed either way. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.deps.isLeader && !this.deps.isLeader()) return;
      void this.sweep()
        .then((report) => this.deps.logger.debug(report, 'idle sweep finished'))
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'idle sweep failed'));
    }, this.deps.intervalMs);
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
    const { containers, activity, logger } = this.deps;
    const report: SweepReport = { checked: 0, stopped: [], paused: [], keptByConnections: [], removedOrphans: [] };
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
    // One query for the people who have a workload (not per container, not every account): the
    // sweep must not stall the server, whether it has 1,000 containers or 10,000 accounts.
    const ids = [...new Set(managed.flatMap((w) => (w.userId === null ? [] : [w.userId])))];
    const users = new Map((await this.deps.users.findByIds(ids)).map((u) => [u.id, u]));
    const candidates: Candidate[] = [];
    const orphans: (ManagedWorkload & { userId: number; username: string })[] = [];
    for (const workload of managed) {
      const { userId, name, state } = workload;
      if (
        userId !== null &&
        workload.username &&
        !users.has(userId) &&
        containers.nameFor({ id: userId, username: workload.username }) === name
      ) {
        orphans.push({ ...workload, userId, username: workload.username });
        continue;
      }
      if (userId === null || (state !== 'running' && state !== 'paused')) continue;
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
      if (!this.deps.enabled || report.skipped) continue;
      const idle = now - last;
      const stage = idleStage(idle, (await containers.plan(user)).idle, state, containers.capabilities.pause);
      if (stage) candidates.push({ workload, user, idle, stage });
    }
    // Nothing may keep running (and routed) for an account that is gone: the list was read before
    // the accounts, so every workload listed had its account by then, if it had one at all.
    for (const orphan of orphans) {
      await containers.removeOrphan(orphan);
      report.removedOrphans.push(orphan.name);
      logger.warn(
        { container: orphan.name, userId: orphan.userId },
        'removed the container of an account that no longer exists (its data volume stays)',
      );
    }
    // A few at a time: when many people leave at once, one slow container must not hold up the rest.
    for (let i = 0; i < candidates.length; i += PROBE_CONCURRENCY) {
      await Promise.all(candidates.slice(i, i + PROBE_CONCURRENCY).map((c) => this.settle(c, now, report)));
    }
    await activity.flush(this.deps.users);
    return report;
  }

  /** Pauses or stops one candidate unless it turns out to be in use after all. */
  private async settle(c: Candidate, now: number, report: SweepReport): Promise<void> {
    const { containers, activity, logger } = this.deps;
    const { name } = c.workload;
    const seconds = Math.round(c.idle / 1000);
    if (c.workload.state === 'running') {
      const use = await containers.probeUse(c.user, c.workload.id).catch(() => 'unknown' as const);
      if (use !== 'quiet') {
        if (use === 'in-use') {
          activity.touch(c.user.id, now);
          report.keptByConnections.push(name);
        }
        return;
      }
    }
    if (c.stage === 'pause') {
      await containers.pause(c.user, 'idle');
      report.paused.push(name);
      logger.info({ container: name, idleSeconds: seconds }, 'paused idle container');
      return;
    }
    await containers.stop(c.user, 'idle');
    report.stopped.push(name);
    logger.info({ container: name, idleSeconds: seconds }, 'stopped idle container');
  }
}
