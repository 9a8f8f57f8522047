import { describe, expect, it } from 'vitest';
import { effectiveLimits } from '../../src/containers/limits.js';

const defaults = { memoryBytes: 512 * 1024 ** 2, cpuQuota: 50_000, cpuPeriod: 100_000, pidsLimit: 256 };

describe('effectiveLimits (quota over template over defaults, per limit)', () => {
  it('when no layer sets anything, then the global defaults apply', () => {
    expect(effectiveLimits(defaults)).toEqual({
      limits: defaults,
      source: { memoryBytes: 'default', cpu: 'default', pidsLimit: 'default' },
    });
    expect(effectiveLimits(defaults, {}, {}).limits).toEqual(defaults);
  });

  it('when the template sets some limits, then those replace the defaults and the rest stay', () => {
    const r = effectiveLimits(defaults, { memoryBytes: 2 * 1024 ** 3, cpus: 1.5 });
    expect(r.limits).toEqual({ memoryBytes: 2 * 1024 ** 3, cpuQuota: 150_000, cpuPeriod: 100_000, pidsLimit: 256 });
    expect(r.source).toEqual({ memoryBytes: 'template', cpu: 'template', pidsLimit: 'default' });
  });

  it('when the admin sets a quota, then it wins over the template, lower or higher', () => {
    const r = effectiveLimits(
      defaults,
      { memoryBytes: 2 * 1024 ** 3, cpus: 1.5, pidsLimit: 64 },
      { memoryBytes: 256 * 1024 ** 2, pidsLimit: 1000 },
    );
    expect(r.limits).toEqual({ memoryBytes: 256 * 1024 ** 2, cpuQuota: 150_000, cpuPeriod: 100_000, pidsLimit: 1000 });
    expect(r.source).toEqual({ memoryBytes: 'quota', cpu: 'template', pidsLimit: 'quota' });
  });

  it('when a quota sets CPUs without a template, then it replaces the default quota', () => {
    const r = effectiveLimits(defaults, undefined, { cpus: 0.25 });
    expect(r.limits.cpuQuota).toBe(25_000);
    expect(r.source.cpu).toBe('quota');
  });

  it("when CPUs are tiny, then the quota stays at Docker's minimum of 1 ms", () => {
    expect(effectiveLimits(defaults, { cpus: 0.001 }).limits.cpuQuota).toBe(1000);
  });
});
