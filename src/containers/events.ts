// The one stream of what happened to people's workloads, as the container manager did it:
// created, started, stopped, paused, unpaused, removed, failed (and 'stopping', just before a
// workload goes away, for whoever must stop using its address first). The Traefik nudge, the wake
// service and the activity tracker subscribe here; metrics and audit will too. A listener that
// throws is logged and never breaks the manager or the other listeners.
import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import type { Person } from './naming.js';

export type WorkloadEventType = 'created' | 'started' | 'stopping' | 'stopped' | 'paused' | 'unpaused' | 'removed' | 'failed';

/** Why the manager acted, where the caller said. */
export type WorkloadReason = 'login' | 'start' | 'wake' | 'restart' | 'idle' | 'delete' | 'admin' | 'recreate' | 'orphan';

export interface WorkloadEvent {
  type: WorkloadEventType;
  person: Person;
  workload: string;
  reason?: WorkloadReason;
  at: Date;
  /** For 'failed': what went wrong (the operator's message, not the person's). */
  error?: string;
  /** For 'removed': the data volume went too. */
  withData?: boolean;
  /** For 'failed': the manager's operation (ensure, restart, stop, …). */
  operation?: string;
  /** For 'failed': the engine failed or refused (not a rule of Spawner's, like a retired account). */
  docker?: boolean;
}

/** The steps of bringing a person's service up, as the person sees them (spawn progress). */
export type SpawnPhase = 'creating' | 'starting' | 'waiting' | 'ready' | 'failed';

/** Where the manager and the wake tell each step; `detail` is for the person (a failure's reason). */
export interface ProgressReporter {
  report(person: Person, phase: SpawnPhase, detail?: string): void;
}

type Listener = (event: WorkloadEvent) => void;

export class WorkloadEvents {
  private readonly emitter = new EventEmitter();

  constructor(private readonly logger?: Logger) {
    // Every subscriber is a part of Spawner, not a per-request listener: no leak warning needed.
    this.emitter.setMaxListeners(0);
  }

  /** Subscribes to one type, or to all with '*'; returns the unsubscribe function. */
  on(type: WorkloadEventType | '*', listener: Listener): () => void {
    const safe = (event: WorkloadEvent) => {
      try {
        listener(event);
      } catch (error) {
        this.logger?.error({ err: error, event: event.type, workload: event.workload }, 'a workload event listener failed');
      }
    };
    this.emitter.on(type, safe);
    return () => this.emitter.off(type, safe);
  }

  emit(event: Omit<WorkloadEvent, 'at'> & { at?: Date }): void {
    const full: WorkloadEvent = { ...event, at: event.at ?? new Date() };
    this.emitter.emit(full.type, full);
    this.emitter.emit('*', full);
  }
}
