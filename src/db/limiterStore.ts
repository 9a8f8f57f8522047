// One limiter's view of the rate-limit counters as express-rate-limit wants it (its Store), the
// same on every dialect: each dialect provides the five statements on its counter table, and the
// limiter's prefix keeps the limiters' counters apart in that one table.
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';

export interface Counter {
  hits: number;
  /** Epoch milliseconds at which the window ends and the counter starts again. */
  resetAt: number;
}

export interface CounterTable {
  get(key: string, now: number): Promise<Counter | undefined>;
  /** Atomically: +1, or 1 with a new window when the old one has ended. */
  increment(key: string, now: number, resetAt: number): Promise<Counter>;
  decrement(key: string, now: number): Promise<void>;
  reset(key: string): Promise<void>;
  resetPrefix(prefix: string): Promise<void>;
}

export function limiterStore(prefix: string, table: CounterTable, now: () => number, keyOf: (key: string) => string = (key) => key): Store {
  let windowMs = 60_000;
  const full = (key: string) => `${prefix}${keyOf(key)}`;
  const info = (counter: Counter): ClientRateLimitInfo => ({ totalHits: counter.hits, resetTime: new Date(counter.resetAt) });
  return {
    prefix,
    // Counters are shared by every Spawner process on the same database.
    localKeys: false,
    init: (options: Options) => {
      windowMs = options.windowMs;
    },
    get: async (key) => {
      const counter = await table.get(full(key), now());
      return counter ? info(counter) : undefined;
    },
    increment: async (key) => {
      const at = now();
      return info(await table.increment(full(key), at, at + windowMs));
    },
    decrement: (key) => table.decrement(full(key), now()),
    resetKey: (key) => table.reset(full(key)),
    resetAll: () => table.resetPrefix(prefix),
  };
}
