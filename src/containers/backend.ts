// The container backend port: everything Spawner asks of wherever people's workloads run, one
// level above any engine's API (the way Sablier's Provider interface sits above Docker and Swarm).
// The plain Docker engine is the first implementation (containers/docker/); a Swarm backend turns
// the same verbs into services scaled to one or zero. Nothing here names a Docker type: what a
// backend cannot do is data in `capabilities`, which callers read instead of testing its class.
import type { WorkloadPlan } from './plan.js';

/** What the person sees: the dashboard's word for their workload. */
export type ContainerState = 'running' | 'starting' | 'paused' | 'stopped' | 'missing' | 'error';

export interface ContainerStatus {
  state: ContainerState;
  name: string;
  id?: string;
  /** Why the state is what it is, in words a person can read (for 'error', 'stopped', 'starting'). */
  detail?: string;
  startedAt?: Date;
}

/** What the manager acts on: is the process up, frozen, coming back, never started, down or absent. */
export type WorkloadPhase = 'running' | 'paused' | 'restarting' | 'created' | 'exited' | 'missing';

export interface WorkloadStatus extends ContainerStatus {
  phase: WorkloadPhase;
  /** The fingerprint the workload was built with (see ContainerBackend.fingerprint). */
  specHash?: string;
}

/** Where Spawner reaches a person's service itself (readiness probes, forwarding during a wake). */
export interface ServiceAddress {
  host: string;
  port: number;
}

export type HealthReading = 'healthy' | 'unhealthy' | 'starting' | 'none';

/** One look at a workload for the readiness poll: phase, the image's health check, its address. */
export interface ReadinessSnapshot {
  phase: WorkloadPhase;
  health: HealthReading;
  address: ServiceAddress | null;
  exitCode?: number;
}

/** A workload found by list(): enough to match it to an account and to sweep it. */
export interface ManagedWorkload {
  id: string;
  name: string;
  /** From the workload's own labels; null when they are missing or malformed (not ours to touch). */
  userId: number | null;
  username: string | null;
  state: WorkloadPhase;
  specHash?: string;
}

/** Whether a workload is in use right now although no request finished lately. */
export type InUse = 'in-use' | 'quiet' | 'unknown';

export interface LogOptions {
  /** Only the last lines (Docker's `tail`); all when undefined. */
  tail?: number;
  follow?: boolean;
  /** Epoch seconds: only lines written since. */
  since?: number;
  /** Aborting ends the stream and releases the engine's connection. */
  signal?: AbortSignal;
  /** Each line starts with the engine's RFC 3339 timestamp (nanoseconds) and a space. */
  timestamps?: boolean;
  /** Longer lines are cut here (characters); the rest of the line is skipped. Unbounded when undefined. */
  maxLineLength?: number;
}

/** A life event of a managed workload, as the backend reports it (not necessarily caused by Spawner). */
export interface BackendEvent {
  action: 'create' | 'start' | 'die' | 'stop' | 'pause' | 'unpause' | 'destroy' | 'health_status';
  id: string;
  name: string;
  userId: number | null;
  username: string | null;
  /** For health_status: what the health check now says. */
  health?: HealthReading;
  at: Date;
}

export interface BackendCapabilities {
  /** Can freeze a workload in memory and thaw it at once (Docker yes, Swarm no). */
  pause: boolean;
  /** Can run a command inside the workload (the connection probe reads /proc/net/tcp that way). */
  execProbe: boolean;
}

export interface ContainerBackend {
  readonly capabilities: BackendCapabilities;
  /** Resolves when the engine answers within the time; DockerUnavailable otherwise. */
  ping(timeoutMs: number): Promise<void>;
  /** Phase 'missing' only when the engine says the workload does not exist; other failures throw. */
  inspect(name: string): Promise<WorkloadStatus>;
  /**
   * Creates the data volume, then the workload, and resolves once it exists. Idempotent (one that
   * already exists is fine). A missing image or network is a ContainerError and leaves nothing.
   */
  create(plan: WorkloadPlan): Promise<void>;
  start(name: string): Promise<void>;
  stop(name: string, graceSeconds: number): Promise<void>;
  restart(name: string, graceSeconds: number): Promise<void>;
  /** Only when capabilities.pause. */
  pause(name: string): Promise<void>;
  unpause(name: string): Promise<void>;
  /** Removes the workload (absent is fine) and, when named, the data volume too. */
  remove(name: string, options?: { volume?: string }): Promise<void>;
  /** Every workload Spawner manages on this backend, in one call whatever their number. */
  list(): Promise<ManagedWorkload[]>;
  /** The specHash a workload built from this plan now would carry: a different one is outdated. */
  fingerprint(plan: WorkloadPlan): Promise<string>;
  /** The address Spawner probes and forwards to; null while the workload has none. */
  address(name: string): Promise<ServiceAddress | null>;
  readiness(name: string): Promise<ReadinessSnapshot>;
  /** The workload's output as text, one line per chunk (no trailing newline). */
  logs(name: string, options: LogOptions): Promise<NodeJS.ReadableStream>;
  /**
   * 'in-use' when the service holds a client connection on `port` or moved bytes since the last
   * look; 'quiet' when neither; 'unknown' when it cannot tell yet (the caller waits a sweep).
   */
  probeUse(nameOrId: string, port: number): Promise<InUse>;
  /**
   * Follows the backend's events for managed workloads until the returned function is called.
   * `onConnection` hears true once the backend's stream is open (events from then on arrive) and
   * false when it drops; events may have been missed while it was down.
   */
  watch(listener: (event: BackendEvent) => void, onConnection?: (connected: boolean) => void): () => void;
}
