// express-rate-limit counters on PostgreSQL's rate_limits table: the statements of the SQLite
// store (src/db/sqlite/rateLimitStore.ts) on a pool, shared by every replica on the database.
import type pg from 'pg';
import type { Store } from 'express-rate-limit';
import type { RateLimitStore } from '../stores.js';
import { limiterStore, type CounterTable } from '../limiterStore.js';
import { purgeEvery, type PurgeTimer } from '../purgeTimer.js';

/** As node-postgres returns it: reset_at is a bigint, which arrives as a string. */
interface Row {
  hits: number;
  reset_at: string;
}

// One statement, so two requests counted at the same moment (on any replica) can never both read
// the old value: ON CONFLICT locks the row. A window that has ended starts again at 1. The columns
// are qualified: bare `reset_at` is ambiguous between the row and `excluded` on PostgreSQL.
const INCREMENT = `
  INSERT INTO rate_limits AS r (key, hits, reset_at) VALUES ($1, 1, $3)
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN r.reset_at <= $2 THEN 1 ELSE r.hits + 1 END,
    reset_at = CASE WHEN r.reset_at <= $2 THEN excluded.reset_at ELSE r.reset_at END
  RETURNING hits, reset_at`;

/**
 * PostgreSQL refuses a NUL character in text, and a key carries what a client typed (an unknown
 * login name): escaped losslessly (`\` → `\\`, NUL → `\0`), so two keys stay two keys.
 */
export const textSafe = (key: string): string =>
  key.includes('\u0000') || key.includes('\\') ? key.replaceAll('\\', '\\\\').replaceAll('\u0000', '\\0') : key;

export class PgRateLimits implements RateLimitStore {
  private readonly purgeTimer: PurgeTimer;
  private readonly table: CounterTable;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { purgeIntervalMs?: number; now?: () => number; purgeDue?: () => boolean } = {},
  ) {
    const counter = (row: Row) => ({ hits: row.hits, resetAt: Number(row.reset_at) });
    this.table = {
      get: async (key, now) => {
        const { rows } = await pool.query<Row>('SELECT hits, reset_at FROM rate_limits WHERE key = $1 AND reset_at > $2', [key, now]);
        return rows[0] ? counter(rows[0]) : undefined;
      },
      increment: async (key, now, resetAt) => counter((await pool.query<Row>(INCREMENT, [key, now, resetAt])).rows[0]!),
      decrement: async (key, now) => {
        await pool.query('UPDATE rate_limits SET hits = greatest(hits - 1, 0) WHERE key = $1 AND reset_at > $2', [key, now]);
      },
      reset: async (key) => {
        await pool.query('DELETE FROM rate_limits WHERE key = $1', [key]);
      },
      // starts_with, not LIKE: a prefix may contain % or _.
      resetPrefix: async (prefix) => {
        await pool.query('DELETE FROM rate_limits WHERE starts_with(key, $1)', [prefix]);
      },
    };
    this.purgeTimer = purgeEvery(options.purgeIntervalMs ?? 10 * 60 * 1000, () => this.purgeExpired(), options.purgeDue);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** A Store for one limiter; the prefix keeps the limiters' counters apart in the one table. */
  storeFor(prefix: string): Store {
    return limiterStore(prefix, this.table, () => this.now(), textSafe);
  }

  /** Deletes counters whose window has ended; resolves to how many went. */
  async purgeExpired(): Promise<number> {
    const result = await this.pool.query('DELETE FROM rate_limits WHERE reset_at <= $1', [this.now()]);
    return result.rowCount ?? 0;
  }

  close(): void {
    this.purgeTimer.stop();
  }
}
