// PostgreSQL advisory locks that Spawner's replicas share, each on a dedicated connection: a
// session lock lives exactly as long as its connection (the server drops it when the connection
// ends, however it ends), so it must never ride on a pooled connection that is handed to someone
// else or recycled. Migrations and leader election use it (src/coordination/pg.ts).
import pg from 'pg';

/** Every advisory lock key Spawner uses, in one place so two features never pick the same one. */
export const LOCK_KEYS = {
  /** Held while the migrations run, so replicas that start together migrate once. */
  migrations: 0x5350_4d01, // "SP" "M" 1
  /** Held by the leader, the one replica that runs the sweeps, reconcile, purges and backups. */
  leader: 0x5350_4c01, // "SP" "L" 1
  /** The first half of a person's two-part key (pg_advisory_lock(int, int)), the user id the second. */
  personNamespace: 0x5350_5001, // "SP" "P" 1
} as const;

/** The dedicated connection's settings: the pool's, but its own, never shared. */
export interface DedicatedConnection {
  connectionString: string;
  connectionTimeoutMillis?: number;
}

/**
 * Opens a connection of its own, waits for the session lock `key` (at most `waitMs`), runs `work`
 * with that connection, then unlocks and closes it. If the process dies meanwhile, the server
 * releases the lock when it sees the connection end.
 */
export async function withSessionLock<T>(
  connection: DedicatedConnection,
  key: number,
  waitMs: number,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(connection);
  // A connection that breaks while idle emits 'error'; the query in flight reports it too.
  client.on('error', () => undefined);
  await client.connect();
  try {
    // lock_timeout bounds the wait for a peer that holds the lock and hangs; 0 would mean forever.
    await client.query(`SET lock_timeout = ${Math.max(1, Math.round(waitMs))}`);
    await client.query('SELECT pg_advisory_lock($1)', [key]);
    await client.query('SET lock_timeout = 0');
    try {
      return await work(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
