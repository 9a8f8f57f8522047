// An express-session store on Spawner's own SQLite file, so sessions survive a restart without
// another service. Expired rows are skipped on read and purged on a timer that never keeps the
// process alive.
import session from 'express-session';
import type Database from 'better-sqlite3';
import type { SessionStore } from '../stores.js';

const DEFAULT_TTL_MS = 24 * 3600 * 1000;

type Callback<T = void> = (error: unknown, value?: T) => void;

export class SqliteSessionStore extends session.Store implements SessionStore {
  private readonly getStmt;
  private readonly setStmt;
  private readonly destroyStmt;
  private readonly touchStmt;
  private readonly purgeStmt;
  private readonly countStmt;
  private readonly purgeTimer: NodeJS.Timeout;

  constructor(
    sqlite: Database.Database,
    private readonly options: { purgeIntervalMs?: number; now?: () => number } = {},
  ) {
    super();
    this.getStmt = sqlite.prepare<[string, number], { data: string }>('SELECT data FROM sessions WHERE sid = ? AND expires_at > ?');
    this.setStmt = sqlite.prepare<[string, string, number]>(
      'INSERT INTO sessions (sid, data, expires_at) VALUES (?, ?, ?) ON CONFLICT(sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at',
    );
    this.destroyStmt = sqlite.prepare<[string]>('DELETE FROM sessions WHERE sid = ?');
    this.touchStmt = sqlite.prepare<[number, string]>('UPDATE sessions SET expires_at = ? WHERE sid = ?');
    this.purgeStmt = sqlite.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?');
    this.countStmt = sqlite.prepare<[number], { n: number }>('SELECT count(*) AS n FROM sessions WHERE expires_at > ?');
    // Expired rows are skipped on read anyway: a purge that fails (a busy file) waits for the next one.
    this.purgeTimer = setInterval(() => void this.purgeExpired().catch(() => undefined), options.purgeIntervalMs ?? 15 * 60 * 1000);
    this.purgeTimer.unref();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private expiryOf(data: session.SessionData): number {
    const expires = data.cookie?.expires;
    if (expires) return new Date(expires).getTime();
    return this.now() + (data.cookie?.maxAge ?? DEFAULT_TTL_MS);
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    try {
      const row = this.getStmt.get(sid, this.now());
      callback(null, row ? (JSON.parse(row.data) as session.SessionData) : null);
    } catch (error) {
      callback(error);
    }
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    try {
      this.setStmt.run(sid, JSON.stringify(data), this.expiryOf(data));
      callback?.(null);
    } catch (error) {
      callback?.(error);
    }
  }

  override destroy(sid: string, callback?: Callback): void {
    try {
      this.destroyStmt.run(sid);
      callback?.(null);
    } catch (error) {
      callback?.(error);
    }
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    try {
      this.touchStmt.run(this.expiryOf(data), sid);
      callback?.(null);
    } catch (error) {
      callback?.(error);
    }
  }

  override length(callback: Callback<number>): void {
    try {
      callback(null, this.countStmt.get(this.now())?.n ?? 0);
    } catch (error) {
      callback(error);
    }
  }

  /** Deletes expired sessions; returns how many went. */
  async purgeExpired(): Promise<number> {
    return this.purgeStmt.run(this.now()).changes;
  }

  close(): void {
    clearInterval(this.purgeTimer);
  }
}
