// The health check's sharing rules on a fake engine: one ping serves every request in flight and a
// good answer is kept for a second; a failure is never kept, and a dropped event stream (the first
// sign of an outage) makes the next request ask again. The real engine: test/integration/health.test.ts.
import { describe, expect, it } from 'vitest';
import { HealthService } from '../../src/services/health.js';
import { DockerUnavailable } from '../../src/errors.js';

function fakeEngine() {
  const engine = {
    pings: 0,
    down: false,
    ping: async () => {
      engine.pings++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (engine.down) throw new DockerUnavailable('gone');
    },
  };
  return engine;
}

function service(engine: ReturnType<typeof fakeEngine>, clock: { now: number }) {
  return new HealthService({ ping: () => Promise.resolve() }, engine, { version: '1.0.0', dockerTimeoutMs: 100, now: () => clock.now });
}

describe('health sharing', () => {
  it('when 100 checks come at once and more within the second, then Docker is pinged once', async () => {
    const engine = fakeEngine();
    const clock = { now: 1000 };
    const health = service(engine, clock);
    const reports = await Promise.all(Array.from({ length: 100 }, () => health.check()));
    expect(reports.every((r) => r.status === 'ok')).toBe(true);
    clock.now += 999;
    await health.check();
    expect(engine.pings).toBe(1);
    clock.now += 1;
    await health.check();
    expect(engine.pings).toBe(2);
  });

  it('when Docker fails, then the failure is shared while in flight but the next check asks again', async () => {
    const engine = fakeEngine();
    const clock = { now: 0 };
    const health = service(engine, clock);
    engine.down = true;
    const reports = await Promise.all([health.check(), health.check()]);
    expect(reports.map((r) => r.checks.docker)).toEqual(['error', 'error']);
    expect(engine.pings).toBe(1);
    engine.down = false;
    expect((await health.check()).checks.docker).toBe('ok');
    expect(engine.pings).toBe(2);
  });

  it('when the event stream drops, then a kept good answer is dropped and the outage shows at once', async () => {
    const engine = fakeEngine();
    const clock = { now: 0 };
    const health = service(engine, clock);
    await health.check();
    engine.down = true;
    expect((await health.check()).checks.docker).toBe('ok');
    health.forgetDocker();
    expect((await health.check()).status).toBe('degraded');
  });
});
