// ensureNetwork's decisions on a fake engine: create only when missing, take a lost race (409) as
// success, and never let Docker's absence or an error stop start-up. The real create is proven by
// test/e2e/first-run.test.ts against the real engine.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ensureNetwork, MANAGED_NETWORK_LABEL } from '../../src/containers/docker/prepare.js';
import { DockerApiError } from '../../src/containers/docker/engine.js';
import { DockerUnavailable } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

function fakeEngine(options: { exists?: boolean; existsError?: Error; createResult?: boolean; createError?: Error }) {
  const created: { name: string; labels: Record<string, string> }[] = [];
  return {
    created,
    networkExists: async () => {
      if (options.existsError) throw options.existsError;
      return options.exists ?? false;
    },
    createNetwork: async (name: string, labels: Record<string, string>) => {
      if (options.createError) throw options.createError;
      created.push({ name, labels });
      return options.createResult ?? true;
    },
  };
}

describe('ensureNetwork', () => {
  it('when the network is missing, then it is created with the managed label and an info line says so', async () => {
    const engine = fakeEngine({ exists: false });
    const { logger, lines } = capturingLogger();
    expect(await ensureNetwork(engine, 'web', logger)).toBe('created');
    expect(engine.created).toEqual([{ name: 'web', labels: { [MANAGED_NETWORK_LABEL]: 'true' } }]);
    expect(lines.find((l) => l.level === 30)).toMatchObject({ network: 'web', component: 'prepare' });
    expect(String(lines.find((l) => l.level === 30)?.msg)).toContain('created the missing Docker network');
  });

  it('when the network exists, then nothing is created and nothing is logged above debug', async () => {
    const engine = fakeEngine({ exists: true });
    const { logger, lines } = capturingLogger();
    expect(await ensureNetwork(engine, 'web', logger)).toBe('present');
    expect(engine.created).toEqual([]);
    expect(lines.filter((l) => Number(l.level) > 20)).toEqual([]);
  });

  it('when another process creates it first (409), then the outcome is present and no info line claims a creation', async () => {
    const engine = fakeEngine({ exists: false, createResult: false });
    const { logger, lines } = capturingLogger();
    expect(await ensureNetwork(engine, 'web', logger)).toBe('present');
    expect(lines.filter((l) => Number(l.level) > 20)).toEqual([]);
  });

  it('when Docker is not reachable, then it warns and resolves instead of throwing', async () => {
    const engine = fakeEngine({ existsError: new DockerUnavailable('Docker engine unreachable: ENOENT') });
    const { logger, lines } = capturingLogger();
    expect(await ensureNetwork(engine, 'web', logger)).toBe('docker-unavailable');
    expect(lines.map((l) => l.level)).toContain(40);
  });

  it('when Docker refuses the create, then it logs an error and resolves', async () => {
    const engine = fakeEngine({ exists: false, createError: new DockerApiError(403, 'forbidden by the socket proxy') });
    const { logger, lines } = capturingLogger();
    expect(await ensureNetwork(engine, 'web', logger)).toBe('failed');
    expect(lines.find((l) => l.level === 50)).toMatchObject({ network: 'web' });
  });
});
