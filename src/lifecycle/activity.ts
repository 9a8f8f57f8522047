// When each person last used their service, kept in memory and written to the database in one
// transaction per sweep: there is no database write per proxied request or page view.
import type { UserStore } from '../db/stores.js';
import type { WorkloadEvents } from '../containers/events.js';

export class ActivityTracker {
  private readonly latest = new Map<number, number>();
  private readonly unflushed = new Set<number>();

  constructor(private readonly now: () => number = Date.now) {}

  touch(userId: number, at: number = this.now()): void {
    if ((this.latest.get(userId) ?? 0) < at) {
      this.latest.set(userId, at);
      this.unflushed.add(userId);
    }
  }

  /** Epoch ms of the last known use, or undefined if Spawner has seen none since it started. */
  lastActivity(userId: number): number | undefined {
    return this.latest.get(userId);
  }

  /** Forgets a person whose workload was removed with its data (the account is going away). */
  follow(events: WorkloadEvents): () => void {
    return events.on('removed', (event) => {
      if (event.withData) this.forget(event.person.id);
    });
  }

  forget(userId: number): void {
    this.latest.delete(userId);
    this.unflushed.delete(userId);
  }

  /** Writes every change since the last flush in one transaction; returns how many rows. */
  async flush(users: Pick<UserStore, 'recordActivity'>): Promise<number> {
    if (this.unflushed.size === 0) return 0;
    const batch = [...this.unflushed].map((id) => ({ id, at: new Date(this.latest.get(id) ?? this.now()) }));
    // Cleared before the write: a touch while it is under way marks its person for the next flush.
    this.unflushed.clear();
    try {
      await users.recordActivity(batch);
    } catch (error) {
      for (const { id } of batch) this.unflushed.add(id);
      throw error;
    }
    return batch.length;
  }
}
