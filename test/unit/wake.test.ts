// Wake's hold-or-page choice, as a pure rule and on the in-memory backend: a service that answers
// within the hold gets the request, a browser waiting longer gets the starting page, a program is
// held; and the address of a woken service is forgotten the moment its workload stops.
import { describe, expect, it } from 'vitest';
import { ActivityTracker } from '../../src/lifecycle/activity.js';
import { Readiness } from '../../src/lifecycle/readiness.js';
import { holdOrPage, WakeService, type WakeResult } from '../../src/lifecycle/wake.js';
import { fakeManager } from '../helpers/fakeServices.js';

const alice = { id: 7, username: 'alice' };
const ok: WakeResult = { ok: true, address: { host: '10.0.0.2', port: 8080 } };
const failed: WakeResult = { ok: false, reason: 'Your service did not start.' };

describe('holdOrPage', () => {
  it.each([
    [ok, true, 'forward'],
    [ok, false, 'forward'],
    [null, true, 'starting-page'],
    [null, false, 'hold-on'],
    [failed, true, 'unavailable'],
    [failed, false, 'unavailable'],
  ] as const)('when the wake within the hold gave %o to a browser (%s), then %s', (within, browser, expected) => {
    expect(holdOrPage(within, browser)).toBe(expected);
  });
});

function wakeSetup(maxConcurrent?: number) {
  const setup = fakeManager();
  const wake = new WakeService(setup.containers, new Readiness(setup.backend), new ActivityTracker(), setup.logger, 2_000, maxConcurrent);
  /** What the route does: race the wake against the hold, then decide. */
  const answer = async (holdMs: number, browser: boolean) => {
    const waking = wake.wake(alice);
    const within = await Promise.race([waking, new Promise<null>((resolve) => setTimeout(() => resolve(null), holdMs))]);
    return { answer: holdOrPage(within, browser), waking };
  };
  return { ...setup, wake, answer };
}

describe('waking on the in-memory backend', () => {
  it('when the service comes up within the hold, then the request is forwarded to its address', async () => {
    const w = wakeSetup();
    const { answer } = await w.answer(500, true);
    expect(answer).toBe('forward');
    expect(w.wake.recentAddress(alice)).toEqual(w.backend.workloads.get('user-alice-7')?.address);
  });

  it('when the service takes longer than the hold, then a browser gets the starting page and a program is held until it is up', async () => {
    const w = wakeSetup();
    w.backend.delay('start', 200);
    const browser = await w.answer(20, true);
    expect(browser.answer).toBe('starting-page');
    const program = await w.answer(20, false);
    expect(program.answer).toBe('hold-on');
    expect((await program.waking).ok).toBe(true);
    expect(w.backend.changes.filter((c) => c.startsWith('start'))).toHaveLength(1);
  });

  it('when the workload cannot be created, then the wake fails with a reason the person can read', async () => {
    const w = wakeSetup();
    w.backend.imagePresent = false;
    const { answer, waking } = await w.answer(500, true);
    expect(answer).toBe('unavailable');
    expect(await waking).toEqual({ ok: false, reason: 'The template image "user-service-template:latest" is not available.' });
  });

  it('when a woken workload is stopped or paused, then its recent address is forgotten at once', async () => {
    const w = wakeSetup();
    await w.wake.wake(alice);
    expect(w.wake.recentAddress(alice)).toBeDefined();
    await w.containers.pause(alice, 'idle');
    expect(w.wake.recentAddress(alice)).toBeUndefined();
    await w.wake.wake(alice);
    expect(w.wake.recentAddress(alice)).toBeDefined();
    await w.containers.stop(alice, 'idle');
    expect(w.wake.recentAddress(alice)).toBeUndefined();
  });

  it('when MAX_CONCURRENT_WAKES wakes are in progress, then another person’s wake is refused at once and the backend is not asked', async () => {
    const w = wakeSetup(1);
    w.backend.delay('start', 200);
    const bob = { id: 8, username: 'bob' };
    const first = w.wake.wake(alice);
    const callsBefore = w.backend.calls.length;
    expect(await w.wake.wake(bob)).toMatchObject({ ok: false, busy: true });
    expect(w.backend.calls.slice(callsBefore).filter((c) => c.includes('bob'))).toEqual([]);
    // Alice's own repeated requests share her wake; once it is done, Bob may wake.
    expect(w.wake.wake(alice)).toBe(first);
    expect((await first).ok).toBe(true);
    expect((await w.wake.wake(bob)).ok).toBe(true);
  });
});
