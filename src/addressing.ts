// Addressing, in one place: where a person's service lives in either routing mode (host, path,
// URL), and the reverse, which person a request is for (Host header, first path segment), with the
// name rules and the names Spawner keeps for itself. Labels, the plan, wake and the access check
// all use it. It takes strings, never Express's Request.
import type { Config } from './config.js';

/** Names that would shadow Spawner's own host, paths or well-known infrastructure. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'admin',
  'administrator',
  'api',
  'app',
  'assets',
  'auth',
  'autoconfig',
  'autodiscover',
  'cdn',
  'dashboard',
  'default',
  'dev',
  'docker',
  'favicon-ico',
  'ftp',
  'health',
  'healthz',
  'help',
  'hub',
  'imap',
  'login',
  'logout',
  'mail',
  'metrics',
  'mx',
  'ns1',
  'ns2',
  'pop',
  'pop3',
  'postmaster',
  'proxy',
  'public',
  'robots',
  'root',
  'signup',
  'smtp',
  'spawner',
  'static',
  'status',
  'support',
  'system',
  'traefik',
  'user',
  'users',
  'wake',
  'webmail',
  'www',
  'container',
  'containers',
  'account',
  'settings',
  'security',
  'test',
  'localhost',
]);

export const USERNAME_RE = /^[a-z0-9](?:[a-z0-9-]{1,30})[a-z0-9]$/;

type RoutingConfig = Pick<Config, 'routingMode' | 'baseDomain' | 'publicScheme'>;

/** Names a person may not take besides RESERVED_NAMES: Spawner's own subdomain and path prefix. */
export function reservedNames(config: Pick<Config, 'spawnerHost' | 'basePath'>): string[] {
  return [config.spawnerHost.split('.')[0] ?? '', config.basePath.replace(/^\//, '')].filter(Boolean);
}

/** True when `name` could be a person's: the username rule, and not a name Spawner keeps. */
export function isPersonName(name: string, reserved: readonly string[]): boolean {
  return USERNAME_RE.test(name) && !RESERVED_NAMES.has(name) && !reserved.includes(name);
}

/** The host name a person's service answers on. */
export function serviceHost(config: RoutingConfig, username: string): string {
  return config.routingMode === 'subdomain' ? `${username}.${config.baseDomain}` : config.baseDomain;
}

/** The path prefix the browser sees: '/' in subdomain mode, '/alice/' in path mode. */
export function servicePath(config: RoutingConfig, username: string): string {
  return config.routingMode === 'subdomain' ? '/' : `/${username}/`;
}

/**
 * The person's address. `port` is the ':8443'-style suffix the browser used to reach Spawner (from
 * the request), so links keep working when the proxy listens on a non-standard port.
 */
export function serviceUrl(config: RoutingConfig, username: string, port = ''): string {
  return `${config.publicScheme}://${serviceHost(config, username)}${port}${servicePath(config, username)}`;
}

/** ':port' when a Host header (Express 5's req.host: trusted X-Forwarded-Host, port kept) carried one, else ''. */
export function portSuffix(host: string | undefined): string {
  const match = /:(\d+)$/.exec(host ?? '');
  return match ? `:${match[1]}` : '';
}

/** Spawner's own origin as the browser reaches it (spawner.<domain> in subdomain mode). */
export function spawnerOrigin(
  protocol: string,
  host: string | undefined,
  config: Pick<Config, 'routingMode' | 'spawnerHost' | 'baseDomain'>,
): string {
  const name = config.routingMode === 'subdomain' ? config.spawnerHost : config.baseDomain;
  return `${protocol}://${name}${portSuffix(host)}`;
}

/**
 * The person a request is for, when it is addressed to a person's service rather than to Spawner:
 * subdomain mode by host (alice.<domain>, also written with DNS's trailing dot), path mode by the
 * first path segment (<domain>/alice/…). null for Spawner's own addresses and for names no person
 * can have.
 */
export function personOfRequest(
  config: Pick<Config, 'routingMode' | 'baseDomain' | 'basePath'>,
  request: { hostname: string; path: string },
  reserved: readonly string[],
): string | null {
  if (config.routingMode === 'subdomain') {
    const host = request.hostname.toLowerCase().replace(/\.$/, '');
    const suffix = `.${config.baseDomain}`;
    if (!host.endsWith(suffix)) return null;
    const name = host.slice(0, -suffix.length);
    return isPersonName(name, reserved) ? name : null;
  }
  const segment = request.path.split('/')[1] ?? '';
  return isPersonName(segment, reserved) && `/${segment}` !== config.basePath ? segment : null;
}

/**
 * A path a redirect may send the browser to on the same host: one leading '/', never `//host`, no
 * backslash (browsers read `/\host` as `//host`) and no control characters.
 */
export function isLocalPath(path: string): boolean {
  if (!path.startsWith('/') || path.startsWith('//')) return false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return false;
  }
  return true;
}
