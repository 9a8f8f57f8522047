// ContainerManager: the intent-level operations on a person's workload, spoken to the backend
// port. The backend's state is the truth; the database only remembers the last id seen.
// Operations on one person run one at a time (a double-click, two tabs, signup racing login all
// share the same promise), and across replicas each operation also holds the person's distributed
// lock (src/coordination/; a no-op on SQLite's single process), with the backend's unique names
// as the last guard. Everything it does is told on one event stream (events.ts).
import type { Logger } from '../logger.js';
import { AppError, ContainerError, DockerUnavailable } from '../errors.js';
import type { BackendCapabilities, ContainerBackend, ContainerStatus, InUse, ManagedWorkload, WorkloadStatus } from './backend.js';
import type { Person } from './naming.js';
import type { PlanSource, WorkloadPlan } from './plan.js';
import { WorkloadEvents, type ProgressReporter, type WorkloadEventType, type WorkloadReason } from './events.js';
import type { StateCache } from './stateCache.js';
import type { PersonLock } from '../coordination/coordination.js';

export type { ContainerState, ContainerStatus } from './backend.js';

export interface ContainerRecorder {
  /**
   * Called whenever the backend reports an id for the person's workload that the caller should keep.
   * Awaited inside the person's queued operation: records keep their order, and a failed write
   * fails the operation as it always did.
   */
  recordContainer(personId: number, container: { id: string | null; name: string | null }): void | Promise<void>;
}

const STOP_GRACE_SECONDS = 10;

const IN_PROCESS_ONLY: PersonLock = { distributed: false, run: (_id, work) => work() };

interface QueueEntry {
  key: string;
  result: Promise<unknown>;
  /** Resolves when the operation is over, whether it succeeded or not. */
  settled: Promise<unknown>;
}

/** The person-facing part of a backend status (without the manager's working fields). */
function publicStatus(status: WorkloadStatus): ContainerStatus {
  const { phase: _phase, specHash: _hash, ...visible } = status;
  return visible;
}

export class ContainerManager {
  private readonly queues = new Map<number, QueueEntry>();
  /** People whose account is being deleted (see retire). */
  private readonly retired = new Set<number>();

  constructor(
    private readonly backend: ContainerBackend,
    private readonly plans: PlanSource,
    private readonly recorder: ContainerRecorder,
    private readonly logger: Logger,
    readonly events: WorkloadEvents = new WorkloadEvents(logger),
    /** Keeps states current from the backend's events; without it every status() inspects. */
    private readonly state?: StateCache,
    /** Serialises a person's operations across replicas; in one process the queue alone does. */
    private readonly personLock: PersonLock = IN_PROCESS_ONLY,
    /** Hears the steps of bringing a service up (spawn progress); see lifecycle/progress.ts. */
    private readonly progress?: ProgressReporter,
  ) {
    state?.follow(events);
  }

  get capabilities(): BackendCapabilities {
    return this.backend.capabilities;
  }

  /**
   * Runs operations on one person strictly one after another. A request for the operation that is
   * already last in line (a double-click, two tabs) shares its result instead of queueing again.
   */
  private serialize<T>(person: Person, key: string, operation: () => Promise<T>): Promise<T> {
    const last = this.queues.get(person.id);
    if (last?.key === key) return last.result as Promise<T>;
    const result = (last?.settled ?? Promise.resolve())
      .then(() => this.personLock.run(person.id, operation))
      .catch((error: unknown) => {
        const docker = error instanceof DockerUnavailable || error instanceof ContainerError;
        this.tell('failed', person, undefined, { error: error instanceof Error ? error.message : String(error), operation: key, docker });
        if (key === 'ensure' || key === 'restart')
          this.progress?.report(person, 'failed', error instanceof AppError ? error.publicMessage : undefined);
        throw error;
      });
    const entry: QueueEntry = { key, result, settled: result.catch(() => undefined) };
    this.queues.set(person.id, entry);
    void entry.settled.then(() => {
      if (this.queues.get(person.id) === entry) this.queues.delete(person.id);
    });
    return result;
  }

  private tell(
    type: WorkloadEventType,
    person: Person,
    reason: WorkloadReason | undefined,
    extra: { error?: string; withData?: boolean; operation?: string; docker?: boolean } = {},
  ) {
    this.events.emit({
      type,
      person: { id: person.id, username: person.username },
      workload: this.nameFor(person),
      ...(reason ? { reason } : {}),
      ...extra,
    });
  }

  nameFor(person: Person): string {
    return this.plans.nameFor(person);
  }

  plan(person: Person): Promise<WorkloadPlan> {
    return this.plans.planFor(person);
  }

  /**
   * Removes the person's workload and data for good, for account deletion: from the moment it is
   * called nothing starts for this person again, so a wake queued behind the removal cannot bring
   * a new, routed container back. If the removal fails the person may try again.
   */
  async retire(person: Person): Promise<void> {
    this.retired.add(person.id);
    try {
      await this.remove(person, { data: true, reason: 'delete' });
    } catch (error) {
      this.retired.delete(person.id);
      throw error;
    }
  }

  private refuseRetired(person: Person): void {
    if (this.retired.has(person.id)) {
      throw new ContainerError(`account ${person.username} is being deleted`, 'This account is being deleted.');
    }
  }

  /** Reuse running, unpause paused, start stopped, create missing. Idempotent. */
  ensureRunning(person: Person, reason?: WorkloadReason): Promise<ContainerStatus> {
    return this.serialize(person, 'ensure', () => this.doEnsureRunning(person, reason));
  }

  restart(person: Person, reason: WorkloadReason = 'restart'): Promise<ContainerStatus> {
    return this.serialize(person, 'restart', async () => {
      this.refuseRetired(person);
      const name = this.nameFor(person);
      const info = await this.inspect(name);
      if (info.phase === 'missing') return this.doEnsureRunning(person, reason);
      if (await this.isOutdated(info, person)) {
        this.logger.info({ container: name }, 'recreating container built from an older configuration');
        await this.removeWorkload(person, 'recreate');
        return this.doEnsureRunning(person, reason);
      }
      if (info.phase === 'paused') await this.unpause(person, reason);
      this.tell('stopping', person, reason);
      this.progress?.report(person, 'starting');
      await this.backend.restart(name, STOP_GRACE_SECONDS);
      this.tell('started', person, reason);
      return this.inspectStatus(person);
    });
  }

  stop(person: Person, reason?: WorkloadReason): Promise<ContainerStatus> {
    return this.serialize(person, 'stop', async () => {
      const name = this.nameFor(person);
      const info = await this.inspect(name);
      if (info.phase === 'missing') return { state: 'missing', name };
      if (info.phase === 'paused') await this.backend.unpause(name);
      this.tell('stopping', person, reason);
      await this.backend.stop(name, STOP_GRACE_SECONDS);
      this.tell('stopped', person, reason);
      return this.inspectStatus(person);
    });
  }

  /** Freezes a running workload; on a backend without the capability it does nothing. */
  pause(person: Person, reason?: WorkloadReason): Promise<ContainerStatus> {
    return this.serialize(person, 'pause', async () => {
      const name = this.nameFor(person);
      const info = await this.inspect(name);
      if (this.backend.capabilities.pause && info.phase === 'running') {
        this.tell('stopping', person, reason);
        await this.backend.pause(name);
        this.tell('paused', person, reason);
      }
      return this.inspectStatus(person);
    });
  }

  /** Removes the workload; with `data: true` also the person's volume (account deletion only). */
  remove(person: Person, options: { data: boolean; reason?: WorkloadReason }): Promise<void> {
    return this.serialize(person, 'remove', async () => {
      const plan = await this.plans.planFor(person);
      this.tell('stopping', person, options.reason);
      await this.backend.remove(plan.name, options.data ? { volume: plan.volume } : {});
      this.tell('removed', person, options.reason, { withData: options.data });
      await this.recorder.recordContainer(person.id, { id: null, name: null });
    });
  }

  /**
   * Removes a workload whose account no longer exists (a wake that raced an account deletion, a
   * database restored from an older backup). The data volume stays: deleting data is the
   * operator's decision.
   */
  removeOrphan(workload: { userId: number; username: string; name: string }): Promise<void> {
    const person = { id: workload.userId, username: workload.username };
    return this.serialize(person, 'remove-orphan', async () => {
      this.tell('stopping', person, 'orphan');
      await this.backend.remove(workload.name, {});
      this.tell('removed', person, 'orphan', { withData: false });
    });
  }

  /**
   * What the backend says now, from the state cache while it follows the backend's events (no
   * backend call), else from an inspect; never throws (an unreachable engine is an 'error' state).
   */
  async status(person: Person): Promise<ContainerStatus> {
    const known = this.state?.get(this.nameFor(person));
    if (known) return publicStatus(known);
    try {
      return await this.inspectStatus(person);
    } catch (error) {
      return this.errorStatus(person, error);
    }
  }

  errorStatus(person: Person, error: unknown): ContainerStatus {
    const name = this.nameFor(person);
    if (error instanceof DockerUnavailable || error instanceof ContainerError) {
      return { state: 'error', name, detail: error.publicMessage };
    }
    this.logger.error({ err: error, container: name }, 'unexpected container error');
    return { state: 'error', name, detail: 'The container engine reported an unexpected error.' };
  }

  /** Every workload Spawner manages on this backend (one call, whatever the number of people). */
  listManaged(): Promise<ManagedWorkload[]> {
    // Through the cache: the sweep's list is also the cache's reconciliation.
    return this.state ? this.state.list() : this.backend.list();
  }

  /** Whether the person's running workload is in use right now (see ContainerBackend.probeUse). */
  async probeUse(person: Person, workloadId: string): Promise<InUse> {
    const plan = await this.plans.planFor(person);
    return this.backend.probeUse(workloadId, plan.port);
  }

  /** Every inspect goes through the cache, so what an operation read is what the dashboard shows. */
  private inspect(name: string): Promise<WorkloadStatus> {
    return this.state ? this.state.inspect(name) : this.backend.inspect(name);
  }

  private async inspectStatus(person: Person): Promise<ContainerStatus> {
    const info = await this.inspect(this.nameFor(person));
    if (info.phase === 'missing') return publicStatus(info);
    return this.statusOf(person, info);
  }

  /** The status the backend reported, after remembering the workload's id for the person. */
  private async statusOf(person: Person, info: WorkloadStatus): Promise<ContainerStatus> {
    await this.recorder.recordContainer(person.id, { id: info.id ?? null, name: this.nameFor(person) });
    return publicStatus(info);
  }

  /** True when the workload was built from another plan or image than the current one. */
  private async isOutdated(info: WorkloadStatus, person: Person): Promise<boolean> {
    try {
      return info.specHash !== (await this.backend.fingerprint(await this.plans.planFor(person)));
    } catch (error) {
      // Without the template image there is nothing to recreate from: keep what exists.
      if (error instanceof ContainerError) return false;
      throw error;
    }
  }

  private async removeWorkload(person: Person, reason: WorkloadReason): Promise<void> {
    this.tell('stopping', person, reason);
    await this.backend.remove(this.nameFor(person));
    this.tell('removed', person, reason, { withData: false });
  }

  private async unpause(person: Person, reason: WorkloadReason | undefined): Promise<void> {
    await this.backend.unpause(this.nameFor(person));
    this.tell('unpaused', person, reason);
  }

  private async doEnsureRunning(person: Person, reason: WorkloadReason | undefined): Promise<ContainerStatus> {
    this.refuseRetired(person);
    const name = this.nameFor(person);
    // What the state cache knows from the backend's events is as good as an inspect (every login
    // and wake of a running or paused service): it saves the backend a call on the hot path.
    // Not across replicas: the one that held the lock before may have changed it a moment ago,
    // and its events may not have reached this cache yet.
    let info = (this.personLock.distributed ? undefined : this.state?.get(name)) ?? (await this.inspect(name));
    if ((info.phase === 'created' || info.phase === 'exited') && (await this.isOutdated(info, person))) {
      // Stopped and built from an older configuration: recreate it; the data volume stays.
      this.logger.info({ container: name }, 'recreating stopped container built from an older configuration');
      await this.removeWorkload(person, 'recreate');
      info = { state: 'missing', phase: 'missing', name };
    }
    if (info.phase === 'missing') {
      this.progress?.report(person, 'creating');
      await this.backend.create(await this.plans.planFor(person));
      this.tell('created', person, reason);
      info = await this.inspect(name);
    }
    if (info.phase === 'paused') {
      this.progress?.report(person, 'starting');
      await this.unpause(person, reason);
    } else if (info.phase !== 'running') {
      this.progress?.report(person, 'starting');
      await this.backend.start(name);
      this.tell('started', person, reason);
    } else {
      // Already running (every login and wake of a running service): what we read is current.
      return this.statusOf(person, info);
    }
    return this.inspectStatus(person);
  }
}
