// After a start a person asked for on Spawner's pages (signup, login, the dashboard's buttons),
// follows the service until it answers, so the spawn's progress reaches "ready" (or "failed") as a
// wake's does. Only while a spawn is under way, and once per person at a time. Unlike a wake it
// remembers no address: nothing is forwarded on the strength of it.
import type { ContainerManager } from '../containers/manager.js';
import type { Person } from '../containers/naming.js';
import type { Logger } from '../logger.js';
import { NotReady, type Readiness } from './readiness.js';
import type { SpawnProgress } from './progress.js';

export function readyWatch(deps: {
  containers: Pick<ContainerManager, 'plan'>;
  readiness: Pick<Readiness, 'waitForService'>;
  progress: SpawnProgress;
  timeoutMs: number;
  logger: Logger;
}): (person: Person) => void {
  const watching = new Set<number>();
  return (person) => {
    if (!deps.progress.inProgress(person.id) || watching.has(person.id)) return;
    watching.add(person.id);
    deps.progress.report(person, 'waiting');
    void (async () => {
      try {
        await deps.readiness.waitForService(await deps.containers.plan(person), Date.now() + deps.timeoutMs);
        deps.progress.report(person, 'ready');
      } catch (error) {
        deps.logger.info({ err: error, user: person.username }, 'service did not become ready after a start');
        deps.progress.report(person, 'failed', error instanceof NotReady ? `Your service did not start: ${error.message}.` : undefined);
      } finally {
        watching.delete(person.id);
      }
    })();
  };
}
