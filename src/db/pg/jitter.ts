// Timers that several replicas run on one database (the purges) start at random points within
// 50–150 % of their interval, as connect-pg-simple does, so the replicas do not all fire together.

export function jittered(intervalMs: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (0.5 + random()));
}
