// An in-memory container backend for fast decision tests of the manager, the sweep, wake and
// reconcile: workloads are plain records, every call is logged, and a test can slow any verb
// down, make it fail, or take a capability away. Never a stand-in for what Docker really does:
// the real-engine tests prove that.
import { PassThrough } from 'node:stream';
import type {
  BackendCapabilities,
  BackendEvent,
  ContainerBackend,
  InUse,
  ManagedWorkload,
  ReadinessSnapshot,
  ServiceAddress,
  WorkloadPhase,
  WorkloadStatus,
} from '../../src/containers/backend.js';
import type { WorkloadPlan } from '../../src/containers/plan.js';
import { ContainerError } from '../../src/errors.js';

export interface FakeWorkload {
  id: string;
  name: string;
  plan: WorkloadPlan;
  phase: Exclude<WorkloadPhase, 'missing'>;
  specHash: string;
  address: ServiceAddress;
}

type Verb = 'inspect' | 'create' | 'start' | 'stop' | 'restart' | 'pause' | 'unpause' | 'remove' | 'list' | 'probeUse';

export class FakeBackend implements ContainerBackend {
  capabilities: BackendCapabilities = { pause: true, execProbe: true };
  readonly workloads = new Map<string, FakeWorkload>();
  readonly volumes = new Set<string>();
  /** Every call, in order: `start user-alice-1`. */
  readonly calls: string[] = [];
  /** Verbs being executed right now (to prove that nothing overlaps). */
  readonly running = new Set<string>();
  maxOverlap = 0;
  private readonly delays = new Map<Verb, number>();
  private readonly failures = new Map<Verb, Error>();
  private readonly listeners = new Set<(event: BackendEvent) => void>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  /** Whether the event stream is up (a test drops it to see what happens without it). */
  watching = true;
  /** What probeUse answers, per workload id. */
  readonly use = new Map<string, InUse>();
  /** Fingerprint the current plan gives (a test changes it to make workloads outdated). */
  fingerprintOf: (plan: WorkloadPlan) => string = (plan) => `hash-${plan.image}`;
  imagePresent = true;
  private nextId = 1;

  /** Every call of `verb` waits this long first. */
  delay(verb: Verb, ms: number): this {
    this.delays.set(verb, ms);
    return this;
  }

  /** Every call of `verb` throws this until cleared with `fail(verb, undefined)`. */
  fail(verb: Verb, error: Error | undefined): this {
    if (error) this.failures.set(verb, error);
    else this.failures.delete(verb);
    return this;
  }

  /** A workload put there behind Spawner's back (by hand, another process, an older Spawner). */
  seed(plan: WorkloadPlan, phase: FakeWorkload['phase'], specHash = this.fingerprintOf(plan)): FakeWorkload {
    const workload: FakeWorkload = { id: `id-${this.nextId++}`, name: plan.name, plan, phase, specHash, address: this.addressOf() };
    this.workloads.set(plan.name, workload);
    return workload;
  }

  private addressOf(): ServiceAddress {
    return { host: `10.0.0.${this.nextId}`, port: 8080 };
  }

  private async act<T>(verb: Verb, name: string, work: () => T): Promise<T> {
    this.calls.push(`${verb} ${name}`);
    const key = `${verb} ${name} ${this.calls.length}`;
    this.running.add(key);
    this.maxOverlap = Math.max(this.maxOverlap, [...this.running].filter((k) => !k.startsWith('inspect') && !k.startsWith('list')).length);
    try {
      const ms = this.delays.get(verb);
      if (ms) await new Promise((resolve) => setTimeout(resolve, ms));
      const failure = this.failures.get(verb);
      if (failure) throw failure;
      return work();
    } finally {
      this.running.delete(key);
    }
  }

  private existing(name: string): FakeWorkload {
    const workload = this.workloads.get(name);
    if (!workload) throw new ContainerError(`no workload ${name}`, 'No such container.');
    return workload;
  }

  private emit(action: BackendEvent['action'], workload: FakeWorkload, health?: BackendEvent['health']): void {
    if (!this.watching) return;
    const event: BackendEvent = {
      action,
      id: workload.id,
      name: workload.name,
      userId: workload.plan.person.id,
      username: workload.plan.person.username,
      ...(health ? { health } : {}),
      at: new Date(),
    };
    for (const listener of this.listeners) listener(event);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  inspect(name: string): Promise<WorkloadStatus> {
    return this.act('inspect', name, () => {
      const workload = this.workloads.get(name);
      if (!workload) return { state: 'missing', phase: 'missing', name, detail: 'No container yet.' };
      const state = workload.phase === 'running' ? 'running' : workload.phase === 'paused' ? 'paused' : 'stopped';
      return { state, phase: workload.phase, name, id: workload.id, specHash: workload.specHash };
    });
  }

  create(plan: WorkloadPlan): Promise<void> {
    return this.act('create', plan.name, () => {
      if (!this.imagePresent)
        throw new ContainerError(`image ${plan.image} missing`, `The template image "${plan.image}" is not available.`);
      this.volumes.add(plan.volume);
      if (!this.workloads.has(plan.name)) this.seed(plan, 'created');
    });
  }

  start(name: string): Promise<void> {
    return this.act('start', name, () => {
      const workload = this.existing(name);
      workload.phase = 'running';
      this.emit('start', workload);
    });
  }

  stop(name: string): Promise<void> {
    return this.act('stop', name, () => {
      const workload = this.existing(name);
      workload.phase = 'exited';
      this.emit('die', workload);
    });
  }

  restart(name: string): Promise<void> {
    return this.act('restart', name, () => {
      const workload = this.existing(name);
      workload.phase = 'running';
      this.emit('start', workload);
    });
  }

  pause(name: string): Promise<void> {
    return this.act('pause', name, () => {
      if (!this.capabilities.pause) throw new Error('this backend cannot pause');
      const workload = this.existing(name);
      workload.phase = 'paused';
      this.emit('pause', workload);
    });
  }

  unpause(name: string): Promise<void> {
    return this.act('unpause', name, () => {
      const workload = this.existing(name);
      workload.phase = 'running';
      this.emit('unpause', workload);
    });
  }

  remove(name: string, options: { volume?: string } = {}): Promise<void> {
    return this.act('remove', name, () => {
      const workload = this.workloads.get(name);
      this.workloads.delete(name);
      if (options.volume) this.volumes.delete(options.volume);
      if (workload) this.emit('destroy', workload);
    });
  }

  list(): Promise<ManagedWorkload[]> {
    return this.act('list', '*', () =>
      [...this.workloads.values()].map((w) => ({
        id: w.id,
        name: w.name,
        userId: w.plan.person.id,
        username: w.plan.person.username,
        state: w.phase,
        specHash: w.specHash,
      })),
    );
  }

  fingerprint(plan: WorkloadPlan): Promise<string> {
    if (!this.imagePresent) return Promise.reject(new ContainerError('image missing', 'The template image is not available.'));
    return Promise.resolve(this.fingerprintOf(plan));
  }

  async address(name: string): Promise<ServiceAddress | null> {
    return (await this.readiness(name)).address;
  }

  readiness(name: string): Promise<ReadinessSnapshot> {
    const workload = this.workloads.get(name);
    if (!workload) return Promise.resolve({ phase: 'missing', health: 'none', address: null });
    return Promise.resolve({ phase: workload.phase, health: 'healthy', address: workload.phase === 'running' ? workload.address : null });
  }

  logs(): Promise<NodeJS.ReadableStream> {
    const stream = new PassThrough({ objectMode: true });
    stream.end();
    return Promise.resolve(stream);
  }

  probeUse(nameOrId: string): Promise<InUse> {
    return this.act('probeUse', nameOrId, () => this.use.get(nameOrId) ?? 'quiet');
  }

  watch(listener: (event: BackendEvent) => void, onConnection?: (connected: boolean) => void): () => void {
    this.listeners.add(listener);
    if (onConnection) {
      this.connectionListeners.add(onConnection);
      if (this.watching) queueMicrotask(() => onConnection(true));
    }
    return () => {
      this.listeners.delete(listener);
      if (onConnection) this.connectionListeners.delete(onConnection);
    };
  }

  /** The event stream drops (false) or comes back (true); events while it is down are lost. */
  setWatching(up: boolean): void {
    this.watching = up;
    for (const listener of this.connectionListeners) listener(up);
  }

  /** Something changes a workload behind Spawner's back and the backend reports it (if watching). */
  behindTheBack(name: string, phase: FakeWorkload['phase'] | 'removed'): void {
    const workload = this.existing(name);
    if (phase === 'removed') this.workloads.delete(name);
    else workload.phase = phase;
    const action = phase === 'removed' ? 'destroy' : phase === 'paused' ? 'pause' : phase === 'running' ? 'start' : 'die';
    this.emit(action, workload);
  }

  /** The workload's health check reports a new reading (Docker's health_status event). */
  reportHealth(name: string, health: NonNullable<BackendEvent['health']>): void {
    this.emit('health_status', this.existing(name), health);
  }

  /** The calls that change something (not inspect or list), for order checks. */
  get changes(): string[] {
    return this.calls.filter((call) => !call.startsWith('inspect') && !call.startsWith('list'));
  }
}
