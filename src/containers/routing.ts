// Where a person's service is reached from outside, in either routing mode.
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

export function serviceUrl(config: RoutingConfig, username: string): string {
  return `${config.publicScheme}://${serviceHost(config, username)}${servicePath(config, username)}`;
}
