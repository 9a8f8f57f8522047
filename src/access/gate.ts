// The access check for one request to a person's service, as data in and a verdict out. Traefik's
// forwardAuth (routes/access.ts, from X-Forwarded-*) and Spawner's own wake route (routes/wake.ts,
// from the request itself) both ask it, so the rule is written once. No database I/O: the address
// rules, an HMAC and the in-memory access table.
import type { Config } from '../config.js';
import { isLocalPath, personOfRequest, servicePath, spawnerOrigin } from '../addressing.js';
import { accessCookieName, cookieValues, mintAccessCookie, readAccessCookie, withoutSpawnerCookies, type CookiePlace } from './cookie.js';
import type { OneTimeCodes } from './codes.js';
import type { AccessTable } from './table.js';

/** Where, under a person's address, the authorize redirect comes back with its code. */
export const CALLBACK_PATH = '.spawner/callback';

export interface GateRequest {
  /** The Host the browser used, port included. */
  host: string;
  /** Path and query as the browser asked (path mode: with the /<name> prefix). */
  uri: string;
  method: string;
  /** http, https, or ws/wss on a websocket upgrade. */
  proto: string;
  accept: string | undefined;
  cookie: string | undefined;
}

export type Verdict =
  | { kind: 'not-a-service' }
  /** In; `cookie` is the header to pass on (Spawner's cookies removed), `user` the person (absent: anonymous). */
  | { kind: 'allow'; name: string; user: string | undefined; cookie: string | undefined }
  /** A browser with no valid cookie: off to Spawner's authorize page (absolute URL). */
  | { kind: 'login'; name: string; location: string }
  /** A program with no valid cookie. */
  | { kind: 'unauthorized'; name: string }
  | { kind: 'forbidden'; name: string; user: string }
  /** The callback: set the cookie and go back to where the person was. */
  | { kind: 'callback'; name: string; location: string; setCookie: string }
  /** A callback with a code that is unknown, spent, expired or for another service. */
  | { kind: 'bad-code'; name: string };

export interface GateParts {
  config: Pick<Config, 'routingMode' | 'baseDomain' | 'basePath' | 'spawnerHost' | 'publicScheme' | 'access'>;
  reserved: readonly string[];
  table: AccessTable;
  codes: OneTimeCodes;
  key: Buffer;
}

export function decide(parts: GateParts, req: GateRequest): Verdict {
  const { config, table } = parts;
  const url = parseUri(req.uri);
  const hostname = req.host.replace(/:\d+$/, '');
  const name = url && personOfRequest(config, { hostname, path: url.pathname }, parts.reserved);
  if (!url || !name) return { kind: 'not-a-service' };
  const https = req.proto === 'https' || req.proto === 'wss';
  const place: CookiePlace = { mode: config.routingMode, name, https };
  const scheme = https ? 'https' : 'http';

  if (url.pathname === `${servicePath(config, name)}${CALLBACK_PATH}`) {
    const userId = table.service(name) ? parts.codes.redeem(url.searchParams.get('code') ?? '', name) : null;
    const person = userId === null ? undefined : table.person(userId);
    const next = safeNext(url.searchParams.get('next'), servicePath(config, name));
    if (userId === null || !person || table.reach(name, userId) !== 'allow') return { kind: 'bad-code', name };
    const setCookie = mintAccessCookie(parts.key, place, {
      name,
      userId,
      epoch: person.epoch,
      serviceEpoch: table.service(name)?.epoch ?? 0,
      ttlMs: config.access.cookieTtlMs,
    });
    return { kind: 'callback', name, location: `${scheme}://${req.host}${next}`, setCookie };
  }

  const userId = cookieUser(parts, name, place, req.cookie);
  const reach = table.reach(name, userId);
  if (reach === 'allow') {
    const user = userId === null ? undefined : table.person(userId)?.name;
    return { kind: 'allow', name, user, cookie: withoutSpawnerCookies(req.cookie) };
  }
  if (reach === 'forbidden') return { kind: 'forbidden', name, user: table.person(userId!)?.name ?? '' };
  const browser = (req.method === 'GET' || req.method === 'HEAD') && (req.accept ?? '').includes('text/html');
  if (!browser) return { kind: 'unauthorized', name };
  const asked = `${scheme}://${req.host}${url.pathname}${url.search}`;
  const origin = spawnerOrigin(scheme, req.host, config);
  return { kind: 'login', name, location: `${origin}${config.basePath}/authorize?next=${encodeURIComponent(asked)}` };
}

/** The person a valid access cookie of this service vouches for (any of several, if tossed ones came first). */
function cookieUser(parts: GateParts, name: string, place: CookiePlace, header: string | undefined): number | null {
  const service = parts.table.service(name);
  if (!service) return null;
  for (const value of cookieValues(header, accessCookieName(place))) {
    const userId = readAccessCookie(parts.key, value, { name, epoch: service.epoch }, (id) => parts.table.person(id)?.epoch);
    if (userId !== null) return userId;
  }
  return null;
}

function parseUri(uri: string): URL | null {
  if (!uri.startsWith('/')) return null;
  try {
    return new URL(uri, 'http://gate.invalid');
  } catch {
    return null;
  }
}

/**
 * Where the callback may send the browser: a path on the service's own host, inside its prefix
 * (never `//host` or a backslash trick, so never another site). Anything else: the service's root.
 */
export function safeNext(next: string | null, prefix: string): string {
  if (!next || !next.startsWith(prefix) || !isLocalPath(next)) return prefix;
  // `/alice/../bob/` and its encoded forms leave the prefix once the browser resolves them.
  const resolved = parseUri(next);
  return resolved && resolved.pathname.startsWith(prefix) ? `${resolved.pathname}${resolved.search}` : prefix;
}
