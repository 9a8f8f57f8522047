// The idle sweep's pause-or-stop choice, as a pure rule and on the in-memory backend: a backend
// without the pause capability only ever gets stops, a workload in use is kept, and a first look
// stops nothing.
import { describe, expect, it } from 'vitest';
import type { UserStore } from '../../src/db/stores.js';
import { ActivityTracker } from '../../src/lifecycle/activity.js';
import { IdleSweeper, idleStage } from '../../src/lifecycle/idleSweeper.js';
import { fakeManager } from '../helpers/fakeServices.js';

const MINUTE = 60_000;
const policy = { idleTimeoutMs: 60 * MINUTE, pauseAfterMs: 10 * MINUTE };

describe('idleStage', () => {
  it.each([
    [5 * MINUTE, 'running', true, null],
    [15 * MINUTE, 'running', true, 'pause'],
    [15 * MINUTE, 'running', false, null],
    [61 * MINUTE, 'running', false, 'stop'],
    [61 * MINUTE, 'running', true, 'stop'],
    [15 * MINUTE, 'paused', true, null],
    [61 * MINUTE, 'paused', true, 'stop'],
  ] as const)('when unused for %i ms while %s (can pause: %s), then %s', (idle, state, canPause, expected) => {
    expect(idleStage(idle, policy, state, canPause)).toBe(expected);
  });

  it('when idle shutdown is off for the plan, then nothing is due however long it was unused', () => {
    expect(idleStage(10_000 * MINUTE, { idleTimeoutMs: 0, pauseAfterMs: 0 }, 'running', true)).toBeNull();
  });

  it('when the plan has no pause stage, then a running workload goes straight to stop at the timeout', () => {
    const noPause = { idleTimeoutMs: 60 * MINUTE, pauseAfterMs: 0 };
    expect(idleStage(30 * MINUTE, noPause, 'running', true)).toBeNull();
    expect(idleStage(60 * MINUTE, noPause, 'running', true)).toBe('stop');
  });
});

async function sweepSetup(options: { canPause: boolean }) {
  const setup = fakeManager();
  setup.backend.capabilities = { pause: options.canPause, execProbe: true };
  const people = [
    { id: 1, username: 'quiet' },
    { id: 2, username: 'busy' },
    { id: 3, username: 'gone' },
  ];
  for (const person of people) await setup.containers.ensureRunning(person);
  const now = 1_000_000_000;
  const activity = new ActivityTracker(() => now);
  const users = {
    all: () => people,
    findByIds: (ids: number[]) => people.filter((p) => ids.includes(p.id)),
    recordActivity: () => undefined,
  } as unknown as UserStore;
  const sweeper = new IdleSweeper({
    containers: setup.containers,
    users,
    activity,
    metrics: { read: () => Promise.resolve(new Map()) },
    logger: setup.logger,
    enabled: true,
    intervalMs: 60_000,
    now: () => now,
  });
  return { ...setup, people, activity, sweeper, now };
}

describe('the sweep', () => {
  it('when a backend cannot pause, then idle workloads past the pause time are left running and none is ever paused', async () => {
    const s = await sweepSetup({ canPause: false });
    for (const person of s.people) s.activity.touch(person.id, s.now - 15 * MINUTE);
    const report = await s.sweeper.sweep();
    expect(report.paused).toEqual([]);
    expect(report.stopped).toEqual([]);
    expect(s.backend.changes.filter((c) => c.startsWith('pause'))).toEqual([]);
  });

  it('when a backend cannot pause, then a workload past the idle timeout is stopped', async () => {
    const s = await sweepSetup({ canPause: false });
    s.activity.touch(1, s.now - 61 * MINUTE);
    s.activity.touch(2, s.now);
    s.activity.touch(3, s.now);
    const report = await s.sweeper.sweep();
    expect(report.stopped).toEqual(['user-quiet-1']);
    expect(s.backend.workloads.get('user-quiet-1')?.phase).toBe('exited');
    expect(s.told.filter((e) => e.type === 'stopped').map((e) => e.reason)).toEqual(['idle']);
  });

  it('when a backend can pause, then a quiet workload past the pause time is paused and one holding a connection is kept', async () => {
    const s = await sweepSetup({ canPause: true });
    for (const person of s.people) s.activity.touch(person.id, s.now - 15 * MINUTE);
    s.backend.use.set(s.backend.workloads.get('user-busy-2')!.id, 'in-use');
    s.backend.use.set(s.backend.workloads.get('user-gone-3')!.id, 'unknown');
    const report = await s.sweeper.sweep();
    expect(report.paused).toEqual(['user-quiet-1']);
    expect(report.keptByConnections).toEqual(['user-busy-2']);
    expect(s.backend.workloads.get('user-gone-3')?.phase).toBe('running');
    expect(s.activity.lastActivity(2)).toBe(s.now);
  });

  it('when Spawner has seen no use of a running workload yet, then its clock starts now and nothing is stopped', async () => {
    const s = await sweepSetup({ canPause: true });
    const report = await s.sweeper.sweep();
    expect(report.checked).toBe(3);
    expect(report.stopped).toEqual([]);
    expect(report.paused).toEqual([]);
    expect(s.activity.lastActivity(1)).toBe(s.now);
  });
});
