// Reconcile's matching of the backend's list to the accounts, without a database or an engine:
// ours only by exact name and labels, corrected ids, orphans reported, other Spawners' left alone.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ManagedWorkload } from '../../src/containers/backend.js';
import { matchWorkloads } from '../../src/lifecycle/reconcile.js';

const config = loadConfig({ BASE_DOMAIN: 'spawner.test' });
const workload = (id: string, userId: number | null, username: string | null, name = `user-${username}-${userId}`): ManagedWorkload => ({
  id,
  name,
  userId,
  username,
  state: 'running',
});
const account = (id: number, username: string, containerId: string | null = null) => ({
  id,
  username,
  containerId,
  containerName: containerId ? `user-${username}-${id}` : null,
});

describe('matchWorkloads', () => {
  it('when a workload carries an account’s name and labels, then it is matched and a changed id is corrected', () => {
    const match = matchWorkloads(
      [workload('new-id', 1, 'alice'), workload('same', 2, 'bob')],
      [account(1, 'alice', 'old-id'), account(2, 'bob', 'same')],
      config,
    );
    expect([...match.matched.keys()]).toEqual([1, 2]);
    expect(match.changed).toEqual([{ userId: 1, id: 'new-id', name: 'user-alice-1' }]);
    expect(match.orphans).toEqual([]);
  });

  it('when a workload’s account is gone or was renamed, then it is an orphan, never matched', () => {
    const match = matchWorkloads([workload('a', 3, 'carol'), workload('b', 4, 'dave')], [account(4, 'david')], config);
    expect(match.orphans.map((o) => o.name)).toEqual(['user-carol-3', 'user-dave-4']);
    expect(match.matched.size).toBe(0);
    expect(match.orphans[0]).toEqual({ name: 'user-carol-3', id: 'a', userId: 3, username: 'carol', state: 'running' });
  });

  it('when a workload has another prefix, malformed labels or a name that does not fit its labels, then it is foreign', () => {
    const match = matchWorkloads(
      [workload('x', 1, 'alice', 'other-alice-1'), workload('y', null, 'alice', 'user-alice-1'), workload('z', 1, 'alice', 'user-alice-2')],
      [account(1, 'alice')],
      config,
    );
    expect(match.foreign).toBe(3);
    expect(match.matched.size).toBe(0);
    expect(match.orphans).toEqual([]);
  });

  it('when an account remembers a workload the backend no longer has, then it is counted as missing', () => {
    const match = matchWorkloads([], [account(1, 'alice', 'gone'), account(2, 'bob')], config);
    expect(match.missing).toBe(1);
  });
});
