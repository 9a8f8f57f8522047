// The manager, its plans and events on the in-memory backend, for decision tests in milliseconds.
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { ContainerManager } from '../../src/containers/manager.js';
import { ConfigPlanSource } from '../../src/containers/plan.js';
import { WorkloadEvents, type WorkloadEvent } from '../../src/containers/events.js';
import { StateCache } from '../../src/containers/stateCache.js';
import { FakeBackend } from './fakeBackend.js';

/** With `stateCache: true` the manager answers status() from a StateCache on the fake's events (not started). */
export function fakeManager(env: Record<string, string> = {}, options: { stateCache?: boolean } = {}) {
  const config = loadConfig({ BASE_DOMAIN: 'spawner.test', CONTAINER_IDLE_TIMEOUT: '3600', CONTAINER_PAUSE_AFTER: '600', ...env });
  const logger = createLogger({ level: 'silent' });
  const backend = new FakeBackend();
  const plans = new ConfigPlanSource(config);
  const events = new WorkloadEvents(logger);
  const told: WorkloadEvent[] = [];
  events.on('*', (event) => told.push(event));
  const recorded: { personId: number; id: string | null }[] = [];
  const state = options.stateCache ? new StateCache(backend, logger) : undefined;
  const containers = new ContainerManager(
    backend,
    plans,
    { recordContainer: (personId, c) => void recorded.push({ personId, id: c.id }) },
    logger,
    events,
    state,
  );
  return { config, logger, backend, plans, events, told, recorded, containers, state };
}
