// An express-session store on PostgreSQL's sessions table: the statements of the SQLite store
// (src/db/sqlite/sessionStore.ts) on a pool. Expired rows are skipped on read and purged on a
// timer that never keeps the process alive; its interval is jittered so replicas spread out.
import session from 'express-session';
import type pg from 'pg';
import type { SessionStore } from '../stores.js';
import { purgeEvery, type PurgeTimer } from '../purgeTimer.js';
import { sessionExpiry } from '../sessionExpiry.js';

type Callback<T = void> = (error: unknown, value?: T) => void;

export class PgSessionStore extends session.Store implements SessionStore {
  private readonly purgeTimer: PurgeTimer;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { purgeIntervalMs?: number; now?: () => number; purgeDue?: () => boolean } = {},
  ) {
    super();
    this.purgeTimer = purgeEvery(options.purgeIntervalMs ?? 15 * 60 * 1000, () => this.purgeExpired(), options.purgeDue);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private expiryOf(data: session.SessionData): number {
    return sessionExpiry(data, this.now());
  }

  /** express-session's callbacks over a promise. */
  private settle<T>(work: Promise<T>, callback?: Callback<T>): void {
    work.then(
      (value) => callback?.(null, value),
      (error: unknown) => callback?.(error),
    );
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    this.settle(
      this.pool
        .query<{ data: string }>('SELECT data FROM sessions WHERE sid = $1 AND expires_at > $2', [sid, this.now()])
        .then(({ rows }) => (rows[0] ? (JSON.parse(rows[0].data) as session.SessionData) : null)),
      callback,
    );
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    this.settle(
      this.pool
        .query(
          `INSERT INTO sessions (sid, data, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
          [sid, JSON.stringify(data), this.expiryOf(data)],
        )
        .then(() => undefined),
      callback,
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    this.settle(
      this.pool.query('DELETE FROM sessions WHERE sid = $1', [sid]).then(() => undefined),
      callback,
    );
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    this.settle(
      this.pool.query('UPDATE sessions SET expires_at = $1 WHERE sid = $2', [this.expiryOf(data), sid]).then(() => undefined),
      callback,
    );
  }

  override length(callback: Callback<number>): void {
    this.settle(
      this.pool
        .query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE expires_at > $1', [this.now()])
        .then(({ rows }) => rows[0]?.n ?? 0),
      callback,
    );
  }

  /** Deletes expired sessions; resolves to how many went. */
  async purgeExpired(): Promise<number> {
    const result = await this.pool.query('DELETE FROM sessions WHERE expires_at <= $1', [this.now()]);
    return result.rowCount ?? 0;
  }

  close(): void {
    this.purgeTimer.stop();
  }
}
