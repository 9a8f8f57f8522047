// For a test file that builds several Spawner apps (one per configuration): the file's own Docker
// network, created before its tests, and every app closed after them.
import { afterAll, beforeAll } from 'vitest';
import { buildTestApp, type TestApp } from './app.js';
import { createTestNetwork } from './docker.js';

/**
 * Registers the file's hooks (call it at the top level of the file) and returns the builder: an
 * app on the file's network with these variables, closed when the file is done. Call the builder
 * in hooks or tests, once the network exists.
 */
export function appsPerFile(runId: string, file: string): (env?: Record<string, string>) => TestApp {
  const apps: TestApp[] = [];
  let network: string;
  beforeAll(async () => {
    network = await createTestNetwork(runId, `spawner-test-${runId}-${file}`);
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
  });
  return (env = {}) => {
    const t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, ...env } });
    apps.push(t);
    return t;
  };
}
