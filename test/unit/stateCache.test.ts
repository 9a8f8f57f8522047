// The state cache's decisions on the in-memory backend: statuses come from events without a
// backend call once the stream is connected and a list was read; a list or inspect that was
// overtaken by an event never overwrites it; without the stream every status inspects as before.
// The real engine's events: test/integration/state-events.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { fakeManager } from '../helpers/fakeServices.js';
import type { StateCache } from '../../src/containers/stateCache.js';
import type { FakeBackend } from '../helpers/fakeBackend.js';

const alice = { id: 7, username: 'alice' };
const bob = { id: 8, username: 'bob' };
const started: StateCache[] = [];

afterEach(() => {
  for (const state of started.splice(0)) state.stop();
});

/** A manager with a started cache, once the fake's stream is connected and the first list is in. */
async function trustedManager() {
  const fake = fakeManager({}, { stateCache: true });
  const state = fake.state!;
  state.start();
  started.push(state);
  await until(() => state.trusted);
  return { ...fake, state };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}

/** Lists read the fake at once but answer only when released (a slow list overtaken by events). */
function holdLists(backend: FakeBackend): () => void {
  const realList = backend.list.bind(backend);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  backend.list = async () => {
    const snapshot = await realList();
    await gate;
    return snapshot;
  };
  return () => {
    release();
    backend.list = realList;
  };
}

const inspects = (calls: string[]) => calls.filter((c) => c.startsWith('inspect')).length;

describe('status from events', () => {
  it('when the cache is trusted, then many status reads after an operation make no backend call', async () => {
    const { backend, containers } = await trustedManager();
    await containers.ensureRunning(alice);
    const before = backend.calls.length;
    for (let i = 0; i < 50; i++) expect((await containers.status(alice)).state).toBe('running');
    expect(backend.calls.slice(before)).toEqual([]);
  });

  it('when a workload is stopped, paused or removed behind Spawner’s back, then status shows it with one inspect per change', async () => {
    const { backend, containers, plans } = await trustedManager();
    await containers.ensureRunning(alice);
    const name = plans.nameFor(alice);
    for (const [phase, state] of [
      ['exited', 'stopped'],
      ['running', 'running'],
      ['paused', 'paused'],
      ['removed', 'missing'],
    ] as const) {
      backend.behindTheBack(name, phase);
      const before = inspects(backend.calls);
      for (let i = 0; i < 10; i++) expect((await containers.status(alice)).state, phase).toBe(state);
      // A removal is complete in itself; the others need the inspect's detail once.
      expect(inspects(backend.calls) - before, phase).toBe(phase === 'removed' ? 0 : 1);
    }
  });

  it('when a running workload’s health check changes, then status shows it without an inspect', async () => {
    const { backend, containers, plans } = await trustedManager();
    const started = await containers.ensureRunning(alice);
    const before = inspects(backend.calls);
    backend.reportHealth(plans.nameFor(alice), 'unhealthy');
    expect(await containers.status(alice)).toMatchObject({ state: 'error', detail: 'Running, but its health check fails.' });
    backend.reportHealth(plans.nameFor(alice), 'healthy');
    const healthy = await containers.status(alice);
    expect(healthy.state).toBe('running');
    expect(healthy.detail).toBeUndefined();
    expect(healthy.id).toBe(started.id);
    expect(inspects(backend.calls) - before).toBe(0);
  });

  it('when a person has no workload and the list was read, then status says missing without asking the backend', async () => {
    const { backend, containers } = await trustedManager();
    const before = backend.calls.length;
    expect(await containers.status(bob)).toMatchObject({ state: 'missing' });
    expect(backend.calls.slice(before)).toEqual([]);
  });
});

describe('order: a stale answer never overwrites a newer event', () => {
  it('when a list taken before a stop arrives after its event, then status still shows the stop', async () => {
    const { backend, containers, plans, state } = await trustedManager();
    await containers.ensureRunning(alice);
    const name = plans.nameFor(alice);
    const release = holdLists(backend);
    const listing = state.list();
    await new Promise((resolve) => setTimeout(resolve, 5));
    backend.behindTheBack(name, 'exited');
    release();
    expect((await listing).find((w) => w.name === name)?.state).toBe('running');
    expect((await containers.status(alice)).state).toBe('stopped');
  });

  it('when a list taken before a workload was created arrives after, then the workload is not taken for gone', async () => {
    const { backend, containers, state } = await trustedManager();
    const release = holdLists(backend);
    const listing = state.list();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await containers.ensureRunning(alice);
    release();
    expect(await listing).toEqual([]);
    expect((await containers.status(alice)).state).toBe('running');
  });

  it('when an inspect taken before a pause answers after its event, then its answer is not kept', async () => {
    const { backend, containers, plans, state } = await trustedManager();
    await containers.ensureRunning(alice);
    const name = plans.nameFor(alice);
    backend.behindTheBack(name, 'exited');
    // The inspect reads 'stopped' now and answers later; the container is paused in between.
    const realInspect = backend.inspect.bind(backend);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    backend.inspect = async (workload) => {
      const snapshot = await realInspect(workload);
      await gate;
      return snapshot;
    };
    const stale = state.inspect(name);
    await new Promise((resolve) => setTimeout(resolve, 5));
    backend.behindTheBack(name, 'running');
    backend.behindTheBack(name, 'paused');
    release();
    expect((await stale).state).toBe('stopped');
    backend.inspect = realInspect;
    expect((await containers.status(alice)).state).toBe('paused');
  });
});

describe('without the event stream', () => {
  it('when the stream is not connected, then every status inspects (today’s behaviour)', async () => {
    const { backend, containers, state } = fakeManager({}, { stateCache: true });
    backend.watching = false;
    state!.start();
    started.push(state!);
    await containers.ensureRunning(alice);
    const before = inspects(backend.calls);
    for (let i = 0; i < 5; i++) await containers.status(alice);
    expect(inspects(backend.calls) - before).toBe(5);
  });

  it('when the stream drops, then status inspects until it is back and a new list was read', async () => {
    const { backend, containers, plans, state } = await trustedManager();
    await containers.ensureRunning(alice);
    backend.setWatching(false);
    expect(state.trusted).toBe(false);
    // Missed while the stream is down: only an inspect can see it.
    backend.behindTheBack(plans.nameFor(alice), 'exited');
    const before = inspects(backend.calls);
    expect((await containers.status(alice)).state).toBe('stopped');
    expect(inspects(backend.calls) - before).toBe(1);
    backend.setWatching(true);
    await until(() => state.trusted);
    const after = backend.calls.length;
    expect((await containers.status(alice)).state).toBe('stopped');
    expect(backend.calls.slice(after)).toEqual([]);
  });
});
