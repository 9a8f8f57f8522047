// Coordination of Spawner replicas on one PostgreSQL database, with advisory locks:
// - a person's lock is pg_advisory_lock(namespace, user id), a session lock held on a pooled
//   connection taken for the length of one operation (its own small pool, so people waiting for
//   Docker never starve the stores' pool); a replica that dies mid-operation loses the
//   connection, and the server drops the lock with it.
// - leadership is pg_try_advisory_lock(key) on one dedicated long-lived connection, tried every
//   few seconds; the leader checks the connection on every tick and steps down when it fails (a
//   lock on a connection that is gone is somebody else's by now). See
//   /work/shared/reference/next-capabilities-b.md, B, for the pitfalls this avoids.
import pg from 'pg';
import type { Logger } from '../logger.js';
import { LOCK_KEYS } from '../db/pg/locks.js';
import type { Coordination, Leadership, PersonLock } from './coordination.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** A peer that holds a person's lock longer than this is stuck: the operation fails instead. */
const PERSON_LOCK_WAIT_MS = 120_000;

export interface PgCoordinationOptions {
  /** How often a follower tries to become the leader, and the leader checks its connection. */
  leaderRetryMs: number;
  /** Connections the person locks may hold at once (each a person with an operation in flight). */
  lockPoolSize?: number;
}

export function pgCoordination(url: string, logger: Logger, options: PgCoordinationOptions): Coordination & { close(): Promise<void> } {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.lockPoolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (error) => logger.warn({ err: error }, 'an idle person-lock connection broke; the pool replaces it'));
  // Bounded waits: the setting stays with the connection for every lock it takes later.
  pool.on('connect', (client) => void client.query(`SET lock_timeout = ${PERSON_LOCK_WAIT_MS}`).catch(() => undefined));
  const personLock: PersonLock = {
    distributed: true,
    run: async (personId, work) => {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_KEYS.personNamespace, personId]);
        try {
          return await work();
        } finally {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_KEYS.personNamespace, personId]).catch((error: Error) => {
            // Dropping the connection releases the lock just as well.
            broken = error;
          });
        }
      } catch (error) {
        broken ??= error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.release(broken);
      }
    },
  };
  const leadership = new PgLeadership(url, logger, options.leaderRetryMs);
  return {
    personLock,
    leadership,
    close: async () => {
      await leadership.stop();
      await pool.end().catch(() => undefined);
    },
  };
}

class PgLeadership implements Leadership {
  private client: pg.Client | undefined;
  private leader = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ticking: Promise<void> | undefined;
  private readonly listeners: ((leader: boolean) => void)[] = [];

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly retryMs: number,
  ) {}

  isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.timer || this.stopped) return;
    const tick = () => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        if (!this.stopped) this.timer = setTimeout(tick, this.retryMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    // Ending the connection gives the lock back at once; the next replica takes it on its tick.
    await this.drop();
  }

  private set(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.logger.info({ leader }, leader ? 'this replica is now the leader' : 'this replica is no longer the leader');
    for (const listener of this.listeners) listener(leader);
  }

  private async tick(): Promise<void> {
    try {
      if (!this.client) {
        const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
        // A connection that breaks while idle emits 'error': leadership ends with it.
        client.on('error', (error) => {
          this.logger.warn({ err: error }, 'the leadership connection broke');
          if (this.client === client) void this.drop();
        });
        await client.connect();
        this.client = client;
      }
      if (this.leader) {
        await this.client.query('SELECT 1');
        return;
      }
      const { rows } = await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [LOCK_KEYS.leader]);
      if (rows[0]?.locked && !this.stopped) this.set(true);
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot reach PostgreSQL for leadership; trying again');
      await this.drop();
    }
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.set(false);
    await client?.end().catch(() => undefined);
  }
}
