// What several Spawner processes on one database must agree on: one person's container
// operations never run on two replicas at once, and exactly one replica (the leader) runs the
// background work (idle sweep, reconcile, purges, backups). On SQLite there is only ever one
// process (server.ts refuses a second one), so both answers are trivial; on PostgreSQL they are
// advisory locks (src/coordination/pg.ts).

export interface PersonLock {
  /** True when the lock spans processes: what a replica cached from events may be stale. */
  readonly distributed: boolean;
  /** Runs `work` while no other replica runs work for the same person. */
  run<T>(personId: number, work: () => Promise<T>): Promise<T>;
}

export interface Leadership {
  /** Whether this process is the leader right now. */
  isLeader(): boolean;
  /** Told every time this process becomes the leader (and when it stops being one). */
  onChange(listener: (leader: boolean) => void): void;
  /** Starts competing for leadership; the listeners hear the outcome. */
  start(): void;
  /** Steps down and lets the next replica take over. */
  stop(): Promise<void>;
}

export interface Coordination {
  personLock: PersonLock;
  leadership: Leadership;
}

/** A single process: it holds every lock and is always the leader. */
export function localCoordination(): Coordination {
  const listeners: ((leader: boolean) => void)[] = [];
  let started = false;
  return {
    personLock: { distributed: false, run: (_personId, work) => work() },
    leadership: {
      isLeader: () => true,
      onChange: (listener) => void listeners.push(listener),
      start: () => {
        if (started) return;
        started = true;
        for (const listener of listeners) listener(true);
      },
      stop: async () => undefined,
    },
  };
}
