// The Docker API proxy's decision, pure: given a method, a path and the parsed body, is this a call
// Spawner's Docker backend makes, with a body it would send? The table below lists every call of
// src/containers/docker/engine.ts (and the per-person network calls), nothing else; a Swarm
// backend's calls would get a table of their own (see SWARM below). The server turns a refusal into
// a 403 (or 400) with Docker's error shape.
import { checkContainerCreate, type CreateRules } from './containerCreate.js';
import { checkImageArchive } from './imageArchive.js';
import {
  checkExecCreate,
  checkExecStart,
  checkNetworkConnect,
  checkNetworkCreate,
  checkNetworkDisconnect,
  checkVolumeCreate,
} from './resourceBodies.js';
import { isObject, onlyKeys, Refusal, type Json } from './shape.js';

export interface ProxyRules extends CreateRules {
  /** DOCKER_PROXY_ALLOW_EXEC: the connection probe's exec (and only it); false refuses every exec. */
  allowExec: boolean;
}

/** none: the request must have no body; json: parsed, checked and sent on re-serialized; archive: an image tar. */
export type BodyKind = 'none' | 'json' | 'archive';

interface Endpoint {
  method: 'GET' | 'POST' | 'DELETE';
  path: RegExp;
  body: BodyKind;
  /** Only exec start answers with an HTTP upgrade (the hijacked exec stream). */
  upgrade?: boolean;
  exec?: boolean;
  /** The body may be absent (dockerode sends stop and restart options as a body too). */
  optional?: boolean;
  check?: (body: Json, rules: ProxyRules, query: URLSearchParams) => void;
  /** The query sent on to Docker; default: as asked. */
  query?: (query: URLSearchParams) => URLSearchParams;
}

/** dockerode's stop and restart send their query options again as the body; Docker ignores them there. */
function checkStopOptions(body: Json): void {
  if (!isObject(body)) throw new Refusal('the body must be a JSON object');
  onlyKeys(body, ['t', 'signal'], 'stop options');
}

const ID = '[A-Za-z0-9][A-Za-z0-9_.-]*';
const IMAGE = '[A-Za-z0-9][A-Za-z0-9._/:@-]*';
const at = (pattern: string) => new RegExp(`^${pattern}$`);

const ENDPOINTS: readonly Endpoint[] = [
  { method: 'GET', path: at('/_ping'), body: 'none' },
  { method: 'GET', path: at('/version'), body: 'none' },
  { method: 'GET', path: at('/events'), body: 'none' },
  // Containers: people's workloads and the Traefik nudge.
  { method: 'GET', path: at('/containers/json'), body: 'none' },
  { method: 'GET', path: at(`/containers/${ID}/json`), body: 'none' },
  {
    method: 'POST',
    path: at('/containers/create'),
    body: 'json',
    check: (body, rules, query) => checkContainerCreate(body, query.get('name') ?? '', rules),
    // dockerode repeats the whole spec in the query; Docker reads only these two.
    query: (query) => new URLSearchParams([...query].filter(([key]) => key === 'name' || key === 'platform')),
  },
  // No body on start: API versions before 1.24 read a HostConfig from it (refused above anyway).
  { method: 'POST', path: at(`/containers/${ID}/(start|pause|unpause)`), body: 'none' },
  { method: 'POST', path: at(`/containers/${ID}/(stop|restart)`), body: 'json', optional: true, check: checkStopOptions },
  { method: 'DELETE', path: at(`/containers/${ID}`), body: 'none' },
  { method: 'GET', path: at(`/containers/${ID}/stats`), body: 'none' },
  { method: 'GET', path: at(`/containers/${ID}/logs`), body: 'none' },
  { method: 'POST', path: at(`/containers/${ID}/exec`), body: 'json', exec: true, check: checkExecCreate },
  { method: 'POST', path: at(`/exec/${ID}/start`), body: 'json', exec: true, upgrade: true, check: checkExecStart },
  { method: 'GET', path: at(`/exec/${ID}/json`), body: 'none', exec: true },
  // Images: looked at, and the nudge's own image loaded; never pulled, built or committed.
  { method: 'GET', path: at(`/images/${IMAGE}/json`), body: 'none' },
  { method: 'POST', path: at('/images/load'), body: 'archive' },
  // Networks: the ingress network and one per person, with Traefik and Spawner attached.
  { method: 'GET', path: at('/networks'), body: 'none' },
  { method: 'POST', path: at('/networks/create'), body: 'json', check: checkNetworkCreate },
  { method: 'GET', path: at(`/networks/${ID}`), body: 'none' },
  { method: 'POST', path: at(`/networks/${ID}/connect`), body: 'json', check: checkNetworkConnect },
  { method: 'POST', path: at(`/networks/${ID}/disconnect`), body: 'json', check: checkNetworkDisconnect },
  { method: 'DELETE', path: at(`/networks/${ID}`), body: 'none' },
  // Volumes: a person's data.
  { method: 'POST', path: at('/volumes/create'), body: 'json', check: checkVolumeCreate },
  { method: 'DELETE', path: at(`/volumes/${ID}`), body: 'none' },
];

// SWARM: a Swarm backend (a later issue) calls /services, /tasks, /nodes (read), /secrets and
// /configs. Its calls and body rules (a service spec is a container spec one level down:
// TaskTemplate.ContainerSpec, with Mounts, Privileges and CapabilityAdd) belong in a table of their
// own, swarmPolicy.ts, consulted here when the proxy is told the engine is a Swarm manager.
// Until then every one of those paths is refused like any other unknown call.

/** API versions before 1.24 still read a HostConfig from the start body: only newer ones pass. */
const OLDEST_MINOR = 24;

export type Route =
  | { allowed: false; status: 400 | 403; reason: string }
  | {
      allowed: true;
      body: BodyKind;
      optionalBody: boolean;
      upgrade: boolean;
      /** The path and query to send to Docker. */
      upstreamUrl: string;
      /** Throws Refusal when the body is not one Spawner would send. */
      check: (body: Json | Buffer) => void;
    };

const refuse = (reason: string, status: 400 | 403 = 403): Route => ({ allowed: false, status, reason });

/** Which call this is, from the method and the URL alone (the body comes later). */
export function routeRequest(method: string, url: string, rules: ProxyRules): Route {
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
  // Encoded characters and dot segments would let a path mean one thing here and another to Docker.
  if (!/^(\/[A-Za-z0-9_.:@-]+)+$/.test(rawPath) || rawPath.split('/').some((part) => part === '.' || part === '..')) {
    return refuse(`the path ${rawPath.slice(0, 200)} is not one Spawner uses`);
  }
  const versioned = /^\/v(\d+)\.(\d+)(\/.*)$/.exec(rawPath);
  if (versioned && (versioned[1] !== '1' || Number(versioned[2]) < OLDEST_MINOR)) {
    return refuse(`API version v${versioned[1]}.${versioned[2]} is refused (v1.${OLDEST_MINOR} or newer)`);
  }
  const path = versioned ? (versioned[3] ?? '') : rawPath;
  const asked = method === 'HEAD' ? 'GET' : method;
  const endpoint = ENDPOINTS.find((e) => e.method === asked && e.path.test(path));
  if (!endpoint) return refuse(`${method} ${path} is not an API call Spawner makes`);
  if (endpoint.exec && !rules.allowExec) return refuse('exec is turned off (DOCKER_PROXY_ALLOW_EXEC=false)');
  const forwarded = endpoint.query ? endpoint.query(query) : query;
  const search = forwarded.toString();
  return {
    allowed: true,
    body: endpoint.body,
    optionalBody: endpoint.optional ?? false,
    upgrade: endpoint.upgrade ?? false,
    upstreamUrl: search ? `${rawPath}?${search}` : rawPath,
    check: (body) => {
      if (endpoint.body === 'archive') checkImageArchive(body as Buffer);
      else endpoint.check?.(body as Json, rules, query);
    },
  };
}

export type Decision = { allowed: true; upstreamUrl: string } | { allowed: false; status: 400 | 403; reason: string };

/** The whole decision for a request whose body is known (parsed JSON, an archive, or none). */
export function decide(method: string, url: string, body: Json | Buffer | undefined, rules: ProxyRules): Decision {
  const route = routeRequest(method, url, rules);
  if (!route.allowed) return route;
  if (route.body === 'none' && body !== undefined) return { allowed: false, status: 400, reason: 'this call takes no body' };
  if (route.body !== 'none' && body === undefined && !route.optionalBody)
    return { allowed: false, status: 400, reason: 'this call needs a body' };
  try {
    if (body !== undefined) route.check(body);
  } catch (error) {
    if (error instanceof Refusal) return { allowed: false, status: 403, reason: error.reason };
    throw error;
  }
  return { allowed: true, upstreamUrl: route.upstreamUrl };
}
