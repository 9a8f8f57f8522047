// Spawner's own Traefik labels exactly as docker-compose.yml (and docker-compose.tls.yml) give them
// after compose's interpolation, turned into Traefik file-provider configuration that points at a
// Spawner listening on the host. The tests route through these rather than a hand-written copy,
// so a wrong label in the compose file fails an end-to-end test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const REPO = join(import.meta.dirname, '..', '..');

/** The `spawner` service's labels from `docker-compose config` with this environment. */
export function composeLabels(env: Record<string, string>, files: string[] = ['docker-compose.yml']): Record<string, string> {
  // compose needs the env_file (.env) to exist; an empty one in a scratch project directory
  // keeps the repo's own .env (if any) out of the test.
  const project = mkdtempSync(join(tmpdir(), 'spawner-compose-'));
  try {
    writeFileSync(join(project, '.env'), '');
    const output = execFileSync(
      'docker-compose',
      [...files.flatMap((f) => ['-f', join(REPO, f)]), '--project-directory', project, 'config'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DOCKER_GID: '0', ...env },
      },
    );
    const config = parse(output) as { services: Record<string, { labels?: Record<string, string> | string[] }> };
    const labels = config.services.spawner?.labels;
    if (!labels) throw new Error('docker-compose config shows no labels on the spawner service');
    const pairs = Array.isArray(labels) ? labels.map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]) : Object.entries(labels);
    // `config` prints a literal `$` as `$$` again (so its output stays valid compose); Docker
    // stores the label with a single `$`, and that is what Traefik reads.
    return Object.fromEntries(pairs.map(([k, v]) => [k, String(v).replace(/\$\$/g, '$')]));
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

export interface HttpDynamic {
  routers: Record<string, Record<string, unknown>>;
  services: Record<string, Record<string, unknown>>;
  /** Absent when there are none (Traefik's file provider refuses an empty section). */
  middlewares?: Record<string, Record<string, unknown>>;
}

/**
 * `traefik.http.*` labels as dynamic configuration: the keys map one to one (Traefik reads both
 * case-insensitively), except that the service's `loadbalancer.server.port` — meaningful only on
 * a container — becomes a server URL on the host, and a forwardAuth address (Spawner's compose
 * service name and port) points at that host URL, its path kept. `rename` gives routers, services and
 * middlewares other names, for two Spawners behind one Traefik.
 */
export function labelsToDynamic(
  labels: Record<string, string>,
  serviceUrl: string,
  rename: (name: string) => string = (n) => n,
): HttpDynamic {
  const http: HttpDynamic = { routers: {}, services: {} };
  for (const [key, value] of Object.entries(labels)) {
    const match = /^traefik\.http\.(routers|services|middlewares)\.([^.]+)\.(.+)$/.exec(key);
    if (!match) continue;
    const [, kind, name, rest] = match as unknown as [string, keyof HttpDynamic, string, string];
    const section = (http[kind] ??= {});
    const target = (section[rename(name)] ??= {});
    if (kind === 'services' && rest.toLowerCase() === 'loadbalancer.server.port') {
      target.loadBalancer = { servers: [{ url: serviceUrl }] };
      continue;
    }
    if (kind === 'middlewares' && rest.toLowerCase() === 'forwardauth.address') {
      const url = new URL(value);
      setPath(target, rest.split('.'), `${serviceUrl}${url.pathname}`);
      continue;
    }
    const renamed = kind === 'routers' && rest.toLowerCase() === 'service' ? rename(value) : value;
    setPath(target, rest.split('.'), renamed);
  }
  if (Object.keys(http.middlewares ?? {}).length === 0) delete http.middlewares;
  return http;
}

/** Sets a dotted label path; a key that is both `true` and a parent (`tls=true`, `tls.certresolver=…`) becomes the parent. */
function setPath(target: Record<string, unknown>, path: string[], value: string): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    if (typeof target[head] === 'object' && value === 'true') return;
    target[head] = value;
    return;
  }
  if (typeof target[head] !== 'object' || target[head] === null) target[head] = {};
  setPath(target[head] as Record<string, unknown>, rest, value);
}
