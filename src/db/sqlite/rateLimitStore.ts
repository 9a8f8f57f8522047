// express-rate-limit counters on Spawner's own SQLite file, so a restart (or a crash an attacker
// provokes) does not hand out a fresh set of login attempts. One SqliteRateLimits owns the
// statements and the purge timer; each limiter gets its own Store view with its own key prefix.
// express-rate-limit awaits what a Store returns, so these return promises like any other store.
import type Database from 'better-sqlite3';
import type { Store } from 'express-rate-limit';
import type { RateLimitStore } from '../stores.js';
import { limiterStore, type CounterTable } from '../limiterStore.js';
import { purgeEvery, type PurgeTimer } from '../purgeTimer.js';

interface Row {
  hits: number;
  reset_at: number;
}

export class SqliteRateLimits implements RateLimitStore {
  private readonly incrementStmt;
  private readonly getStmt;
  private readonly decrementStmt;
  private readonly resetKeyStmt;
  private readonly resetPrefixStmt;
  private readonly purgeStmt;
  private readonly purgeTimer: PurgeTimer;
  private readonly table: CounterTable;

  constructor(
    sqlite: Database.Database,
    private readonly options: { purgeIntervalMs?: number; now?: () => number } = {},
  ) {
    // One statement, so two requests counted at the same moment can never both read the old value.
    // A window that has ended starts again at 1 instead of adding to stale hits.
    this.incrementStmt = sqlite.prepare<{ key: string; now: number; resetAt: number }, Row>(
      `INSERT INTO rate_limits (key, hits, reset_at) VALUES (:key, 1, :resetAt)
       ON CONFLICT(key) DO UPDATE SET
         hits = CASE WHEN reset_at <= :now THEN 1 ELSE hits + 1 END,
         reset_at = CASE WHEN reset_at <= :now THEN :resetAt ELSE reset_at END
       RETURNING hits, reset_at`,
    );
    this.getStmt = sqlite.prepare<[string, number], Row>('SELECT hits, reset_at FROM rate_limits WHERE key = ? AND reset_at > ?');
    this.decrementStmt = sqlite.prepare<[string, number]>('UPDATE rate_limits SET hits = max(hits - 1, 0) WHERE key = ? AND reset_at > ?');
    this.resetKeyStmt = sqlite.prepare<[string]>('DELETE FROM rate_limits WHERE key = ?');
    this.resetPrefixStmt = sqlite.prepare<[string, string]>('DELETE FROM rate_limits WHERE substr(key, 1, length(?)) = ?');
    this.purgeStmt = sqlite.prepare<[number]>('DELETE FROM rate_limits WHERE reset_at <= ?');
    const counter = (row: Row) => ({ hits: row.hits, resetAt: row.reset_at });
    this.table = {
      get: async (key, now) => {
        const row = this.getStmt.get(key, now);
        return row ? counter(row) : undefined;
      },
      increment: async (key, now, resetAt) => counter(this.incrementStmt.get({ key, now, resetAt })!),
      decrement: async (key, now) => void this.decrementStmt.run(key, now),
      reset: async (key) => void this.resetKeyStmt.run(key),
      resetPrefix: async (prefix) => void this.resetPrefixStmt.run(prefix, prefix),
    };
    this.purgeTimer = purgeEvery(options.purgeIntervalMs ?? 10 * 60 * 1000, () => this.purgeExpired());
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** A Store for one limiter; the prefix keeps the limiters' counters apart in the one table. */
  storeFor(prefix: string): Store {
    return limiterStore(prefix, this.table, () => this.now());
  }

  /** Deletes counters whose window has ended; returns how many went. */
  async purgeExpired(): Promise<number> {
    return this.purgeStmt.run(this.now()).changes;
  }

  close(): void {
    this.purgeTimer.stop();
  }
}
