// Chooses how this process coordinates with others on its database: on SQLite it claims the file
// for itself (a second process is refused), on PostgreSQL it joins the replicas' advisory locks.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { claimDatabaseFile } from '../db/sqlite/processLock.js';
import { localCoordination, type Coordination } from './coordination.js';
import { pgCoordination } from './pg.js';

export type OpenCoordination = Coordination & { close(): Promise<void> };

/**
 * How often a follower tries for leadership: within one sweep interval of the leader's death
 * someone leads again, and never more often than a few times a second or less than every 5 s.
 */
export const leaderRetryMs = (sweepIntervalMs: number): number => Math.min(5000, Math.max(200, Math.round(sweepIntervalMs / 2)));

/** Throws DatabaseInUseError (one line) when another Spawner holds the SQLite file. */
export function openCoordination(config: Readonly<Config>, logger: Logger): OpenCoordination {
  if (config.databaseUrl) {
    return pgCoordination(config.databaseUrl, logger.child({ component: 'coordination' }), {
      leaderRetryMs: leaderRetryMs(config.lifecycle.sweepIntervalMs),
    });
  }
  const claim = config.databasePath === ':memory:' ? undefined : claimDatabaseFile(config.databasePath);
  return {
    ...localCoordination(),
    close: async () => claim?.release(),
  };
}
