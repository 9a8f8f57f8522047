// The container manager's decisions on the in-memory backend: one operation per person at a time,
// identical last requests sharing one result, what it tells on the event stream, and that a
// listener that throws changes nothing. The real engine's behaviour is in test/integration.
import { describe, expect, it } from 'vitest';
import { ContainerError } from '../../src/errors.js';
import { fakeManager } from '../helpers/fakeServices.js';

const alice = { id: 7, username: 'alice' };

describe('one operation per person', () => {
  it('when twenty ensure-running requests arrive together, then they share one result and the backend creates and starts once', async () => {
    const { backend, containers } = fakeManager();
    backend.delay('create', 20);
    const results = await Promise.all(Array.from({ length: 20 }, () => containers.ensureRunning(alice)));
    expect(new Set(results).size).toBe(1);
    expect(results[0]!.state).toBe('running');
    expect(backend.changes).toEqual(['create user-alice-7', 'start user-alice-7']);
  });

  it('when ensure, restart and stop are asked while one another runs, then they run strictly one after another, in order', async () => {
    const { backend, containers } = fakeManager();
    for (const verb of ['create', 'start', 'restart', 'stop'] as const) backend.delay(verb, 15);
    const ensure = containers.ensureRunning(alice);
    const restart = containers.restart(alice);
    const stop = containers.stop(alice);
    const [, restarted, stopped] = await Promise.all([ensure, restart, stop]);
    expect(backend.maxOverlap).toBe(1);
    expect(backend.changes).toEqual(['create user-alice-7', 'start user-alice-7', 'restart user-alice-7', 'stop user-alice-7']);
    expect(restarted.state).toBe('running');
    expect(stopped.state).toBe('stopped');
  });

  it('when a request repeats an operation that is not the last in line, then it queues again instead of sharing', async () => {
    const { backend, containers } = fakeManager();
    backend.delay('start', 10);
    await Promise.all([containers.ensureRunning(alice), containers.stop(alice), containers.ensureRunning(alice)]);
    expect(backend.changes).toEqual(['create user-alice-7', 'start user-alice-7', 'stop user-alice-7', 'start user-alice-7']);
    expect(backend.workloads.get('user-alice-7')?.phase).toBe('running');
  });

  it('when two people ask at once, then their operations overlap (the queue is per person)', async () => {
    const { backend, containers } = fakeManager();
    backend.delay('create', 30);
    await Promise.all([containers.ensureRunning(alice), containers.ensureRunning({ id: 8, username: 'bob' })]);
    expect(backend.maxOverlap).toBe(2);
  });

  it('when an operation fails, then it is told as failed and the next one in line still runs', async () => {
    const { backend, containers, told } = fakeManager();
    backend.fail('create', new ContainerError('image missing', 'The template image is not available.'));
    const first = containers.ensureRunning(alice);
    const second = containers.stop(alice);
    await expect(first).rejects.toThrow('image missing');
    expect((await second).state).toBe('missing');
    expect(told.filter((e) => e.type === 'failed')).toEqual([
      expect.objectContaining({ workload: 'user-alice-7', error: 'image missing' }),
    ]);
  });
});

describe('events', () => {
  it('when a missing workload is ensured for a login, then created and started are told with the person and the reason', async () => {
    const { containers, told } = fakeManager();
    await containers.ensureRunning(alice, 'login');
    expect(told.map((e) => [e.type, e.reason, e.person, e.workload])).toEqual([
      ['created', 'login', alice, 'user-alice-7'],
      ['started', 'login', alice, 'user-alice-7'],
    ]);
    expect(told.every((e) => e.at instanceof Date)).toBe(true);
  });

  it('when the sweep pauses and a wake unpauses, then paused and unpaused are told (what the Traefik nudge follows)', async () => {
    const { containers, told } = fakeManager();
    await containers.ensureRunning(alice);
    told.length = 0;
    await containers.pause(alice, 'idle');
    await containers.ensureRunning(alice, 'wake');
    expect(told.map((e) => `${e.type}:${e.reason}`)).toEqual(['stopping:idle', 'paused:idle', 'unpaused:wake']);
  });

  it('when the account is deleted, then removed is told with its data, and the volume is gone', async () => {
    const { backend, containers, told } = fakeManager();
    await containers.ensureRunning(alice);
    await containers.remove(alice, { data: true, reason: 'delete' });
    expect(told.at(-1)).toMatchObject({ type: 'removed', reason: 'delete', withData: true });
    expect(backend.volumes.has('user-alice-7-data')).toBe(false);
  });

  it('when a listener throws, then the operation still succeeds and the other listeners still hear it', async () => {
    const { containers, events, told } = fakeManager();
    events.on('started', () => {
      throw new Error('listener bug');
    });
    const status = await containers.ensureRunning(alice);
    expect(status.state).toBe('running');
    expect(told.map((e) => e.type)).toContain('started');
  });

  it('when a stopped workload was built from an older plan, then it is recreated (removed, created, started)', async () => {
    const { backend, containers, plans, told } = fakeManager();
    backend.seed(await plans.planFor(alice), 'exited', 'an-older-hash');
    await containers.ensureRunning(alice);
    expect(backend.changes).toEqual(['remove user-alice-7', 'create user-alice-7', 'start user-alice-7']);
    expect(told.find((e) => e.type === 'removed')).toMatchObject({ reason: 'recreate', withData: false });
  });

  it('when a backend cannot pause, then pause does nothing and the workload keeps running', async () => {
    const { backend, containers } = fakeManager();
    backend.capabilities = { pause: false, execProbe: false };
    await containers.ensureRunning(alice);
    expect((await containers.pause(alice)).state).toBe('running');
    expect(backend.changes).not.toContain('pause user-alice-7');
  });
});
