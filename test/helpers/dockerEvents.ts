// Follows Docker's event stream for the containers and volumes whose names start with a prefix,
// so a test can act at an exact moment of a spawn (e.g. kill Spawner right after "create").
import { dockerClient } from './docker.js';

interface SeenEvent {
  type: string;
  action: string;
  name: string;
}

const WAIT_MS = 20_000;

export interface DockerEventWatch {
  /** Resolves once Docker has reported `count` events of this kind for names starting with `<prefix>-<who>`. */
  next(type: 'container' | 'volume', action: string, who: string, count?: number): Promise<void>;
  close(): void;
}

export async function watchDockerEvents(prefix: string): Promise<DockerEventWatch> {
  const stream = (await dockerClient().getEvents({ filters: { type: ['container', 'volume'] } })) as NodeJS.ReadableStream & {
    destroy(): void;
  };
  const seen: SeenEvent[] = [];
  const listeners = new Set<() => void>();
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const raw = JSON.parse(line) as { Type: string; Action: string; Actor: { ID: string; Attributes?: Record<string, string> } };
      // Volumes are named by their id; containers carry their name as an attribute.
      const name = raw.Type === 'volume' ? raw.Actor.ID : (raw.Actor.Attributes?.name ?? '');
      if (!name.startsWith(`${prefix}-`)) continue;
      seen.push({ type: raw.Type, action: raw.Action, name });
      for (const listener of listeners) listener();
    }
  });
  return {
    next(type, action, who, count = 1) {
      const matches = (e: SeenEvent) => e.type === type && e.action === action && e.name.startsWith(`${prefix}-${who}`);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (seen.filter(matches).length < count) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`Docker reported no ${type} ${action} for ${prefix}-${who} within ${WAIT_MS} ms`));
        }, WAIT_MS);
        listeners.add(check);
        check();
      });
    },
    close: () => stream.destroy(),
  };
}
