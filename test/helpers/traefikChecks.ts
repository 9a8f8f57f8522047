// Traefik's own view of the routing, as its API and log show it: every router and middleware
// enabled and free of errors, the expected ones present. A router can be reported "enabled" while
// Traefik logs a configuration error about it (a certificate resolver that does not exist, say),
// so the log is read too.
import { expect } from 'vitest';
import { eventually, viaTraefik, type Traefik } from './traefik.js';

export interface RouterInfo {
  name: string;
  provider: string;
  status: string;
  rule: string;
  priority?: number;
  entryPoints?: string[];
  middlewares?: string[];
  service?: string;
  tls?: { certResolver?: string; options?: string };
  error?: string[];
}

interface Element {
  name: string;
  status: string;
  error?: string[];
}

/** Log lines Traefik writes when a router's configuration is wrong (the API may still say enabled). */
const CONFIG_ERROR = /\b(ERR|WRN)\b.*(routerName|middlewareName|serviceName)=/;
/** Expected noise: the test's ACME server is unreachable on purpose; catch-all rules have no domain for TLS options. */
const EXPECTED = [/Unable to obtain ACME certificate/, /No domain found in rule/];

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

/** Traefik's log so far, without colour codes. */
export function logText(traefik: Traefik): string {
  return stripAnsi(traefik.logs());
}

export async function routers(traefik: Traefik): Promise<RouterInfo[]> {
  return traefik.get<RouterInfo[]>('/api/http/routers?per_page=1000');
}

/** Lines of Traefik's log that report a router, middleware or service configuration problem. */
export function configErrorsInLog(traefik: Traefik): string[] {
  return logText(traefik)
    .split('\n')
    .filter((line) => CONFIG_ERROR.test(line) && !EXPECTED.some((re) => re.test(line)));
}

/**
 * Waits until every name in `expected` is a router (e.g. `spawner-sub@file`, `<container>@docker`),
 * then asserts that no router or middleware is anything but enabled, none carries an error, and
 * Traefik logged no configuration error. Returns the routers by name.
 */
export async function expectNoRouterErrors(traefik: Traefik, expected: string[] = []): Promise<Map<string, RouterInfo>> {
  const list = await eventually(
    async () => {
      const all = await routers(traefik);
      const names = new Set(all.map((r) => r.name));
      return expected.every((n) => names.has(n)) ? all : undefined;
    },
    10_000,
    `routers ${expected.join(', ')} in Traefik's API`,
  ).catch(async (error: unknown) => {
    const names = (await routers(traefik)).map((r) => r.name);
    throw new Error(`${String(error)}; present: ${names.join(', ')}`);
  });
  const middlewares = await traefik.get<Element[]>('/api/http/middlewares?per_page=1000');
  const bad = [...list, ...middlewares].filter((e) => e.status !== 'enabled' || (e.error?.length ?? 0) > 0);
  expect(
    bad.map((e) => ({ name: e.name, status: e.status, error: e.error })),
    'routers or middlewares not enabled or in error',
  ).toEqual([]);
  expect(configErrorsInLog(traefik), "configuration errors in Traefik's log").toEqual([]);
  return new Map(list.map((r) => [r.name, r]));
}

/** Waits until Traefik's service for a container reports its server UP (it re-reads Docker ~2 s after a start). */
export async function serviceUp(traefik: Traefik, service: string, ms = 15_000): Promise<void> {
  await eventually(
    async () => {
      const s = await traefik.get<{ serverStatus?: Record<string, string> }>(`/api/http/services/${service}`);
      return Object.values(s.serverStatus ?? {}).includes('UP');
    },
    ms,
    `service ${service} UP in Traefik`,
  );
}

/** The status of a GET on Traefik's API (200, 404, …), for waits on something to appear or go. */
async function apiStatus(traefik: Traefik, path: string): Promise<number> {
  const response = await fetch(`${traefik.api}${path}`, { signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return response.status;
}

/**
 * Waits until Traefik's API shows the router `router` (e.g. `<container>@docker`) enabled.
 * Traefik applies a Docker start event up to providersThrottleDuration (2 s) after it; a test
 * that stops or pauses a container before then can see that start land afterwards, and Traefik
 * route to the stopped container (a 502) after the test saw the route missing.
 */
export async function routerEnabled(traefik: Traefik, router: string, ms = 15_000): Promise<void> {
  await eventually(
    async () => (await traefik.get<{ status: string }>(`/api/http/routers/${router}`)).status === 'enabled',
    ms,
    `router ${router} enabled in Traefik`,
  );
}

/**
 * Waits until Traefik's API has no router `router` any more (404): Traefik has applied the die
 * (or, for a pause, the nudge's re-read) of a container it was routing to. Only meaningful once
 * the router was seen (routerEnabled): before Traefik applies the start, it is missing too.
 */
export async function routerGone(traefik: Traefik, router: string, ms = 15_000): Promise<void> {
  await eventually(async () => (await apiStatus(traefik, `/api/http/routers/${router}`)) === 404, ms, `router ${router} gone from Traefik`);
}

/**
 * Waits until Traefik itself routes host + path to the container `container` and the answer
 * passes `check`: its service is UP in Traefik's API, and the answer does not come from Spawner
 * (which bridges the seconds after a wake by forwarding, and marks all it answers with X-Request-Id).
 */
export async function reachesContainer(
  traefik: Traefik,
  target: { host: string; path: string; container: string; secure?: boolean; headers?: Record<string, string> },
  check: (html: string) => boolean,
  ms = 15_000,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  await serviceUp(traefik, `${target.container}@docker`, ms);
  return eventually(
    async () => {
      const response = await viaTraefik(traefik, target.host, target.path, {
        timeoutMs: 3000,
        ...(target.headers ? { headers: target.headers } : {}),
        ...(target.secure ? { secure: true } : {}),
      });
      const direct = response.headers['x-request-id'] === undefined;
      return response.status === 200 && direct && check(response.text) ? response : undefined;
    },
    ms,
    `${target.host}${target.path} to reach ${target.container} through Traefik's own route`,
  );
}
