// ensureNetwork's decisions on a fake engine: create only when missing, take a lost race (409) as
// success, and never let Docker's absence or an error stop start-up. The real create is proven by
// test/e2e/first-run.test.ts against the real engine.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ensureNetwork, MANAGED_NETWORK_LABEL } from '../../src/containers/docker/prepare.js';
import { DockerApiError, type NetworkFacts } from '../../src/containers/docker/engine.js';
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

const ISOLATED: NetworkFacts = { interContainer: false, internal: false };

function fakeEngine(options: { exists?: boolean; facts?: NetworkFacts; existsError?: Error; createResult?: boolean; createError?: Error }) {
  const created: { name: string; labels: Record<string, string>; facts: NetworkFacts | undefined }[] = [];
  return {
    created,
    inspectNetwork: async () => {
      if (options.existsError) throw options.existsError;
      // A lost race (409): the other process's network is there on the second look.
      return options.exists || (options.createResult === false && created.length > 0) ? (options.facts ?? ISOLATED) : null;
    },
    createNetwork: async (name: string, labels: Record<string, string>, facts?: NetworkFacts) => {
      if (options.createError) throw options.createError;
      created.push({ name, labels, facts });
      return options.createResult ?? true;
    },
  };
}

describe('ensureNetwork', () => {
  it('when the network is missing, then it is created with the managed label and an info line says so', async () => {
    const engine = fakeEngine({ exists: false });
    const { logger, lines } = capturingLogger();
    expect((await ensureNetwork(engine, 'web', logger)).outcome).toBe('created');
    expect(engine.created).toEqual([{ name: 'web', labels: { [MANAGED_NETWORK_LABEL]: 'true' }, facts: ISOLATED }]);
    expect(lines.find((l) => l.level === 30)).toMatchObject({ network: 'web', component: 'prepare' });
    expect(String(lines.find((l) => l.level === 30)?.msg)).toContain('created the missing Docker network');
  });

  it('when the network exists, then nothing is created and nothing is logged above debug', async () => {
    const engine = fakeEngine({ exists: true });
    const { logger, lines } = capturingLogger();
    expect((await ensureNetwork(engine, 'web', logger)).outcome).toBe('present');
    expect(engine.created).toEqual([]);
    expect(lines.filter((l) => Number(l.level) > 20)).toEqual([]);
  });

  it('when another process creates it first (409), then the outcome is present and no info line claims a creation', async () => {
    const engine = fakeEngine({ exists: false, createResult: false });
    const { logger, lines } = capturingLogger();
    expect((await ensureNetwork(engine, 'web', logger)).outcome).toBe('present');
    expect(lines.filter((l) => Number(l.level) > 20)).toEqual([]);
  });

  it('when Docker is not reachable, then it warns and resolves instead of throwing', async () => {
    const engine = fakeEngine({ existsError: new DockerUnavailable('Docker engine unreachable: ENOENT') });
    const { logger, lines } = capturingLogger();
    expect((await ensureNetwork(engine, 'web', logger)).outcome).toBe('docker-unavailable');
    expect(lines.map((l) => l.level)).toContain(40);
  });

  it('when Docker refuses the create, then it logs an error and resolves', async () => {
    const engine = fakeEngine({ exists: false, createError: new DockerApiError(403, 'forbidden by the socket proxy') });
    const { logger, lines } = capturingLogger();
    expect((await ensureNetwork(engine, 'web', logger)).outcome).toBe('failed');
    expect(lines.find((l) => l.level === 50)).toMatchObject({ network: 'web' });
  });

  it('when CONTAINER_EGRESS=none, then the network it creates is internal as well as isolated', async () => {
    const engine = fakeEngine({ exists: false });
    const { logger } = capturingLogger();
    await ensureNetwork(engine, 'web', logger, {}, { isolated: true, egress: 'none' });
    expect(engine.created[0]!.facts).toEqual({ interContainer: false, internal: true });
  });

  it('when CONTAINER_SUBNET is set, then the network it creates gets that address block', async () => {
    const engine = fakeEngine({ exists: false });
    const { logger } = capturingLogger();
    await ensureNetwork(engine, 'web', logger, {}, { isolated: true, egress: 'open', subnet: '10.96.0.0/16' });
    expect(engine.created[0]!.facts).toEqual({ interContainer: false, internal: false, subnet: '10.96.0.0/16' });
  });

  it('when an existing network lets containers talk to each other, then it is unsafe with a line that says how to fix it', async () => {
    const engine = fakeEngine({ exists: true, facts: { interContainer: true, internal: false } });
    const { logger } = capturingLogger();
    const result = await ensureNetwork(engine, 'web', logger);
    expect(result.outcome).toBe('unsafe');
    expect(result.problem).toContain('docker network create -o com.docker.network.bridge.enable_icc=false web');
    expect(engine.created).toEqual([]);
  });

  it('when isolation is off, then a flat network is accepted, and an egress mismatch is still refused', async () => {
    const { logger } = capturingLogger();
    const flat = fakeEngine({ exists: true, facts: { interContainer: true, internal: false } });
    expect((await ensureNetwork(flat, 'web', logger, {}, { isolated: false, egress: 'open' })).outcome).toBe('present');
    const result = await ensureNetwork(flat, 'web', logger, {}, { isolated: false, egress: 'none' });
    expect(result).toMatchObject({ outcome: 'unsafe', problem: expect.stringContaining('--internal') });
  });
});
