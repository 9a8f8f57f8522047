// After a start a person asked for on Spawner's pages (signup, login, the dashboard's buttons),
// follows the service until it answers, so the spawn's progress reaches "ready" (or "failed") as a
// wake's does. Only while a spawn is under way, and once per person at a time. Unlike a wake it
// remembers no address: nothing is forwarded on the strength of it.
import type { ContainerManager } from '../containers/manager.js';
import type { Person } from '../containers/naming.js';
import type { Logger } from '../logger.js';
import { NotReady, type Readiness } from './readiness.js';
import type { SpawnProgress } from './progress.js';

const SLICE_MS = 1_000;

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
        const plan = await deps.containers.plan(person);
        const end = Date.now() + deps.timeoutMs;
        // In one-second slices, so the watch ends as soon as the spawn is no longer under way (a
        // wake saw it ready, the person stopped it, a new start took over): a paused or stopped
        // workload would otherwise be polled until the timeout, costing the engine a call per poll.
        for (;;) {
          try {
            await deps.readiness.waitForService(plan, Math.min(end, Date.now() + SLICE_MS));
            if (deps.progress.inProgress(person.id)) deps.progress.report(person, 'ready');
            return;
          } catch (error) {
            const sliceOver = error instanceof NotReady && Date.now() < end && /in time/.test(error.message);
            if (!sliceOver) throw error;
            if (!deps.progress.inProgress(person.id)) return;
          }
        }
      } catch (error) {
        if (!deps.progress.inProgress(person.id)) return;
        deps.logger.info({ err: error, user: person.username }, 'service did not become ready after a start');
        deps.progress.report(person, 'failed', error instanceof NotReady ? `Your service did not start: ${error.message}.` : undefined);
      } finally {
        watching.delete(person.id);
      }
    })();
  };
}
