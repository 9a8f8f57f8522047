// An express-session store on Spawner's own SQLite file, so sessions survive a restart without
// another service. Expired rows are skipped on read and purged on a timer that never keeps the
// process alive. Sessions roll (every request moves the expiry), but a write per page view was
// the largest part of a dashboard request: a touch only writes when the expiry moves by more
// than a twentieth of the session's lifetime (at most a minute), so a session may end that much
// before its cookie does.
import session from 'express-session';
import type Database from 'better-sqlite3';
import { purgeEvery, type PurgeTimer } from '../purgeTimer.js';
import { sessionExpiry } from '../sessionExpiry.js';
import type { SessionStore } from '../stores.js';

/** A touch that moves the expiry by less than this (or 1/20 of the lifetime) writes nothing. */
const TOUCH_GRACE_MS = 60_000;
/** Stored expiries remembered for skipping touches; the oldest are forgotten beyond this. */
const REMEMBERED = 10_000;

type Callback<T = void> = (error: unknown, value?: T) => void;

export class SqliteSessionStore extends session.Store implements SessionStore {
  private readonly getStmt;
  private readonly setStmt;
  private readonly destroyStmt;
  private readonly touchStmt;
  private readonly purgeStmt;
  private readonly countStmt;
  private readonly purgeTimer: PurgeTimer;
  /** The expiry each recently seen session has in the file. */
  private readonly storedExpiry = new Map<string, number>();

  constructor(
    sqlite: Database.Database,
    private readonly options: { purgeIntervalMs?: number; now?: () => number } = {},
  ) {
    super();
    this.getStmt = sqlite.prepare<[string, number], { data: string; expires_at: number }>(
      'SELECT data, expires_at FROM sessions WHERE sid = ? AND expires_at > ?',
    );
    this.setStmt = sqlite.prepare<[string, string, number]>(
      'INSERT INTO sessions (sid, data, expires_at) VALUES (?, ?, ?) ON CONFLICT(sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at',
    );
    this.destroyStmt = sqlite.prepare<[string]>('DELETE FROM sessions WHERE sid = ?');
    this.touchStmt = sqlite.prepare<[number, string]>('UPDATE sessions SET expires_at = ? WHERE sid = ?');
    this.purgeStmt = sqlite.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?');
    this.countStmt = sqlite.prepare<[number], { n: number }>('SELECT count(*) AS n FROM sessions WHERE expires_at > ?');
    this.purgeTimer = purgeEvery(options.purgeIntervalMs ?? 15 * 60 * 1000, () => this.purgeExpired());
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private expiryOf(data: session.SessionData): number {
    return sessionExpiry(data, this.now());
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    try {
      const row = this.getStmt.get(sid, this.now());
      if (row) this.remember(sid, row.expires_at);
      callback(null, row ? (JSON.parse(row.data) as session.SessionData) : null);
    } catch (error) {
      callback(error);
    }
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    try {
      const expiry = this.expiryOf(data);
      this.setStmt.run(sid, JSON.stringify(data), expiry);
      this.remember(sid, expiry);
      callback?.(null);
    } catch (error) {
      callback?.(error);
    }
  }

  override destroy(sid: string, callback?: Callback): void {
    try {
      this.destroyStmt.run(sid);
      this.storedExpiry.delete(sid);
      callback?.(null);
    } catch (error) {
      callback?.(error);
    }
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    try {
      const expiry = this.expiryOf(data);
      const stored = this.storedExpiry.get(sid);
      const grace = Math.min(TOUCH_GRACE_MS, (data.cookie?.originalMaxAge ?? 0) / 20);
      if (stored === undefined || expiry - stored >= grace) {
        this.touchStmt.run(expiry, sid);
        this.remember(sid, expiry);
      }
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

  private remember(sid: string, expiry: number): void {
    this.storedExpiry.delete(sid);
    this.storedExpiry.set(sid, expiry);
    if (this.storedExpiry.size > REMEMBERED) {
      const oldest = this.storedExpiry.keys().next().value;
      if (oldest !== undefined) this.storedExpiry.delete(oldest);
    }
  }

  /** Deletes expired sessions; returns how many went. */
  async purgeExpired(): Promise<number> {
    return this.purgeStmt.run(this.now()).changes;
  }

  close(): void {
    this.purgeTimer.stop();
  }
}
