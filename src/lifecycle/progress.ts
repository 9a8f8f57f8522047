// Spawn progress: what is happening to each person's service right now (creating, starting,
// waiting for the service, ready, failed with the reason), in memory and bounded, for the starting
// page and the dashboard to show as it happens. The manager reports creating/starting/failed, the
// wake (or the readiness watch after a login's start) waiting/ready. A spawn opens with its first
// step and closes with ready or failed; its length is what spawner_spawn_duration_seconds observes.
import type { Person } from '../containers/naming.js';
import type { ProgressReporter, SpawnPhase } from '../containers/events.js';

export interface ProgressEvent {
  phase: SpawnPhase;
  /** A sentence for the person. */
  message: string;
  /** Epoch milliseconds. */
  at: number;
}

type Listener = (event: ProgressEvent) => void;

/** People followed at once (the oldest is forgotten first), and steps kept per person. */
const MAX_PEOPLE = 2_000;
const MAX_EVENTS = 12;
/** Listeners per person (open dashboards and starting pages); more is refused by the caller. */
export const MAX_LISTENERS_PER_PERSON = 8;

const MESSAGES: Record<Exclude<SpawnPhase, 'failed'>, string> = {
  creating: 'Creating your container…',
  starting: 'Starting your container…',
  waiting: 'Waiting for your service to answer…',
  ready: 'Your service is ready.',
};

interface Track {
  events: ProgressEvent[];
  /** When the open spawn began; undefined when none is open. */
  openedAt?: number;
}

export class SpawnProgress implements ProgressReporter {
  private readonly tracks = new Map<number, Track>();
  private readonly listeners = new Map<number, Set<Listener>>();
  private readonly endListeners: ((result: 'success' | 'failure', seconds: number) => void)[] = [];

  report(person: Person, phase: SpawnPhase, detail?: string): void {
    const now = Date.now();
    let track = this.tracks.get(person.id);
    const opening = phase === 'creating' || phase === 'starting';
    // Waiting and ready belong to a spawn: a wake of a service that was already up says nothing.
    if (!track?.openedAt && (phase === 'waiting' || phase === 'ready')) return;
    if (opening && !track?.openedAt) track = { events: [], openedAt: now };
    track ??= { events: [] };
    const event: ProgressEvent = {
      phase,
      message: phase === 'failed' ? (detail ?? 'Your service could not be started.') : MESSAGES[phase],
      at: now,
    };
    track.events.push(event);
    if (track.events.length > MAX_EVENTS) track.events.shift();
    if (phase === 'ready' || phase === 'failed') {
      if (track.openedAt !== undefined) this.ended(phase === 'ready' ? 'success' : 'failure', (now - track.openedAt) / 1000);
      delete track.openedAt;
    }
    // Re-inserted so the map's order is least recently reported first.
    this.tracks.delete(person.id);
    this.tracks.set(person.id, track);
    if (this.tracks.size > MAX_PEOPLE) this.tracks.delete(this.tracks.keys().next().value!);
    for (const listener of this.listeners.get(person.id) ?? []) listener(event);
  }

  /** The workload is being stopped or removed: a spawn under way ends without a result. */
  abandon(personId: number): void {
    const track = this.tracks.get(personId);
    if (track) delete track.openedAt;
  }

  /** Whether a spawn is under way for the person (begun, not ready or failed yet). */
  inProgress(personId: number): boolean {
    return this.tracks.get(personId)?.openedAt !== undefined;
  }

  /** The steps of the person's latest spawn, oldest first. */
  history(personId: number): ProgressEvent[] {
    return [...(this.tracks.get(personId)?.events ?? [])];
  }

  /** The steps of the spawn under way; none when no spawn is (a finished one is history). */
  current(personId: number): ProgressEvent[] {
    return this.inProgress(personId) ? this.history(personId) : [];
  }

  /** Hears each new step for the person; undefined when the person has too many listeners already. */
  subscribe(personId: number, listener: Listener): (() => void) | undefined {
    let set = this.listeners.get(personId);
    if (set && set.size >= MAX_LISTENERS_PER_PERSON) return undefined;
    if (!set) this.listeners.set(personId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(personId) === set) this.listeners.delete(personId);
    };
  }

  /** Hears each spawn's end with its length (the spawn-duration metric). */
  onSpawnEnd(listener: (result: 'success' | 'failure', seconds: number) => void): void {
    this.endListeners.push(listener);
  }

  private ended(result: 'success' | 'failure', seconds: number): void {
    for (const listener of this.endListeners) listener(result, seconds);
  }
}
