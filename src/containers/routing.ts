// Where a person's service is reached from outside, in either routing mode.
import type { Request } from 'express';
import type { Config } from '../config.js';

type RoutingConfig = Pick<Config, 'routingMode' | 'baseDomain' | 'publicScheme'>;

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

/** ':port' when the request's Host header carried one, else ''. */
export function portSuffix(req: Request): string {
  // Express 5's req.host keeps the port and honours X-Forwarded-Host from trusted proxies only.
  const match = /:(\d+)$/.exec(req.host ?? '');
  return match ? `:${match[1]}` : '';
}

/** Spawner's own origin as the browser reaches it (spawner.<domain> in subdomain mode). */
export function spawnerOrigin(req: Request, config: Pick<Config, 'routingMode' | 'spawnerHost' | 'baseDomain'>): string {
  const host = config.routingMode === 'subdomain' ? config.spawnerHost : config.baseDomain;
  return `${req.protocol}://${host}${portSuffix(req)}`;
}
