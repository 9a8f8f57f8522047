// Every person's workload state, kept current from the backend's event stream and reconciled by
// the periodic list, so the dashboard, /health and the API answer without a backend call per
// request. Backend-neutral: it hears BackendEvents (what happened, whoever did it), the manager's
// own events, the manager's inspects and the lists, and trusts itself only while the event
// stream is connected and a list has been read since it (re)connected; otherwise callers inspect.
//
// Order without clocks: every event bumps a sequence number, and an inspect or list taken at
// sequence S is applied to a workload only if no event for it arrived after S (a stale answer
// never overwrites a newer event). Spawner's and the engine's clocks are never compared, so a
// remote engine with a skewed clock cannot reorder anything.
//
// An event says what happened, not everything the dashboard shows (start time, exit code, OOM):
// it marks the entry as needing one inspect, which is then kept until the next event. A health
// report on a running workload is complete in itself and is applied directly.
import type { Logger } from '../logger.js';
import type { BackendEvent, ContainerBackend, ManagedWorkload, WorkloadPhase, WorkloadStatus } from './backend.js';
import type { WorkloadEvents } from './events.js';
import { runningState } from './runningState.js';

/** How often the state is reconciled by a list when nothing else (the idle sweep) listed lately. */
const REFRESH_MS = 60_000;

interface Entry {
  /** The full answer of an inspect; undefined while the entry waits for one. */
  status?: WorkloadStatus;
  /** Known from an event or a list while status is undefined (a phase, an id). */
  id?: string;
  /** The last phase a list or an event told, for counting without inspects (metrics). */
  phase?: WorkloadPhase;
  /** Sequence number of the last event for this workload. */
  changed: number;
}

/** The phase an event leaves a workload in, where the event alone says so. */
const PHASE_AFTER: Partial<Record<BackendEvent['action'], WorkloadPhase>> = {
  create: 'created',
  start: 'running',
  unpause: 'running',
  pause: 'paused',
  die: 'exited',
  stop: 'exited',
};

const MISSING = (name: string): WorkloadStatus => ({ state: 'missing', phase: 'missing', name, detail: 'No container yet.' });

export class StateCache {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;
  private connected = false;
  /** Bumped on every connect and drop: a list spanning one cannot vouch for the gap. */
  private epoch = 0;
  /** True once a list was read after the stream last connected: the cache covers every workload. */
  private complete = false;
  private lastListAt = 0;
  private unwatch: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly connectionListeners = new Set<(connected: boolean) => void>();

  constructor(
    private readonly backend: Pick<ContainerBackend, 'watch' | 'list' | 'inspect'>,
    private readonly logger: Logger,
    private readonly refreshMs = REFRESH_MS,
  ) {}

  /** Follows the backend's events and lists at once and then every refreshMs (unless listed meanwhile). */
  start(): void {
    if (this.unwatch) return;
    this.unwatch = this.backend.watch(
      (event) => this.onBackendEvent(event),
      (connected) => this.onConnection(connected),
    );
    this.timer = setInterval(
      () => {
        if (Date.now() - this.lastListAt >= this.refreshMs) void this.listQuietly();
      },
      Math.max(1000, this.refreshMs / 4),
    );
    this.timer.unref();
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    clearInterval(this.timer);
    this.onConnection(false);
  }

  /** What Spawner itself did, in case the backend's event arrives late (or not: a lost stream). */
  follow(events: WorkloadEvents): void {
    events.on('*', (event) => {
      if (event.type === 'failed') this.touch(event.workload);
      else if (event.type === 'removed') this.set(event.workload, MISSING(event.workload), ++this.seq);
      else if (event.type !== 'stopping') this.touch(event.workload);
    });
  }

  /** Hears true when the backend's stream (re)connects and false when it drops (health reads this). */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  get trusted(): boolean {
    return this.connected && this.complete;
  }

  /**
   * The workload's status from the cache, or undefined when the caller must inspect: the cache
   * is not trusted, or an event came since the last inspect.
   */
  get(name: string): WorkloadStatus | undefined {
    if (!this.trusted) return undefined;
    const entry = this.entries.get(name);
    if (!entry) return MISSING(name);
    return entry.status;
  }

  /** Running workloads as far as the cache knows (the metrics' gauge; no backend call). */
  countRunning(): number {
    let running = 0;
    for (const entry of this.entries.values()) if ((entry.status?.phase ?? entry.phase) === 'running') running++;
    return running;
  }

  /** Inspects through the cache: the answer is kept unless an event overtook it. */
  async inspect(name: string): Promise<WorkloadStatus> {
    const at = this.seq;
    const status = await this.backend.inspect(name);
    this.offer(name, status, at);
    return status;
  }

  /** Lists through the cache: the one list reconciles every entry it does not contradict. */
  async list(): Promise<ManagedWorkload[]> {
    const at = this.seq;
    const epoch = this.epoch;
    const workloads = await this.backend.list();
    this.reconcile(workloads, at);
    if (this.connected && epoch === this.epoch) this.complete = true;
    return workloads;
  }

  /** An inspect's answer taken at sequence `at`, applied unless an event came after it. */
  offer(name: string, status: WorkloadStatus, at: number): void {
    const entry = this.entries.get(name);
    if (entry && entry.changed > at) return;
    this.set(name, status, entry?.changed ?? 0);
  }

  private reconcile(workloads: ManagedWorkload[], at: number): void {
    this.lastListAt = Date.now();
    const listed = new Set<string>();
    for (const workload of workloads) {
      listed.add(workload.name);
      const entry = this.entries.get(workload.name);
      if (entry && entry.changed > at) continue;
      const known = entry?.status;
      // The same workload in the same phase: what the last inspect said still holds.
      if (known && known.id === workload.id && known.phase === workload.state) continue;
      this.entries.set(workload.name, { id: workload.id, phase: workload.state, changed: entry?.changed ?? 0 });
    }
    for (const [name, entry] of this.entries) {
      if (listed.has(name) || entry.changed > at) continue;
      // Not listed and nothing since: gone (absent entries read as missing).
      this.entries.delete(name);
    }
  }

  private onBackendEvent(event: BackendEvent): void {
    if (!event.name) return;
    const seq = ++this.seq;
    const entry = this.entries.get(event.name);
    const knownId = entry?.status?.id ?? entry?.id;
    if (event.action === 'destroy') {
      // A destroy of an older workload of the same name says nothing about the current one.
      if (knownId && knownId !== event.id) return this.touch(event.name, seq);
      return this.set(event.name, MISSING(event.name), seq);
    }
    const known = entry?.status;
    if (event.action === 'health_status' && event.health && known?.id === event.id && known.phase === 'running') {
      // Only the health report changed: apply it, no inspect needed (the start time stays).
      const { detail: _old, ...rest } = known;
      return this.set(event.name, { ...rest, ...runningState(event.health) }, seq);
    }
    const phase = PHASE_AFTER[event.action] ?? entry?.status?.phase ?? entry?.phase;
    this.entries.set(event.name, { id: event.id, ...(phase ? { phase } : {}), changed: seq });
  }

  private touch(name: string, seq = ++this.seq): void {
    const entry = this.entries.get(name);
    const phase = entry?.status?.phase ?? entry?.phase;
    this.entries.set(name, {
      ...(entry?.status?.id ? { id: entry.status.id } : entry?.id ? { id: entry.id } : {}),
      ...(phase ? { phase } : {}),
      changed: seq,
    });
  }

  private set(name: string, status: WorkloadStatus, changed: number): void {
    if (status.phase === 'missing') {
      // A missing workload needs no entry once the cache is complete; keep the order mark only.
      this.entries.set(name, { status, changed });
      return;
    }
    this.entries.set(name, { status, ...(status.id ? { id: status.id } : {}), changed });
  }

  private onConnection(connected: boolean): void {
    if (connected === this.connected) return;
    this.connected = connected;
    this.epoch++;
    this.complete = false;
    if (connected) {
      this.logger.debug('backend event stream connected; reading the full list');
      void this.listQuietly();
    } else {
      this.logger.debug('backend event stream down; status falls back to inspects');
    }
    for (const listener of this.connectionListeners) {
      try {
        listener(connected);
      } catch (error) {
        this.logger.error({ err: error }, 'a state-cache connection listener failed');
      }
    }
  }

  private async listQuietly(): Promise<void> {
    try {
      await this.list();
    } catch (error) {
      this.logger.warn({ err: error }, 'listing workloads for the state cache failed; status falls back to inspects');
    }
  }
}
