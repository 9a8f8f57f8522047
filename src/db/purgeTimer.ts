// The purge loop every store with expiring rows runs (sessions, rate-limit counters), on either
// dialect: one purge, then the next after a jittered delay (50–150 % of the interval, as
// connect-pg-simple does), so replicas on one database do not all purge together. The timer
// never keeps the process alive, and a purge that fails waits for the next one (expired rows are
// skipped on read anyway).

export function jittered(intervalMs: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (0.5 + random()));
}

export interface PurgeTimer {
  stop(): void;
}

/** `due` says whether this process purges at all now (on PostgreSQL only the leader does). */
export function purgeEvery(intervalMs: number, purge: () => Promise<unknown>, due: () => boolean = () => true): PurgeTimer {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void (due() ? purge() : Promise.resolve()).catch(() => undefined).finally(schedule), jittered(intervalMs));
    timer.unref();
  };
  schedule();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
