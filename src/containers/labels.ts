// Builds every label a person's container carries: Traefik's routing and Spawner's own markers.
// Pure, so the exact map can be read in one place and tested as data.
import type { Config } from '../config.js';
import { containerName, type Person } from './naming.js';

type LabelConfig = Pick<Config, 'routingMode' | 'baseDomain' | 'stripPathPrefix' | 'traefik' | 'containers'>;

/** Above Spawner's own routers (2 and 1) so a person's path always wins; paths never overlap. */
export const USER_ROUTER_PRIORITY = 100;

export const MANAGED_LABEL = 'spawner.managed';

export function buildLabels(config: LabelConfig, person: Person): Record<string, string> {
  const name = containerName(config, person);
  const router = `traefik.http.routers.${name}`;
  const labels: Record<string, string> = {
    ...config.containers.extraLabels,
    'traefik.enable': 'true',
    'traefik.docker.network': config.traefik.network,
    [`${router}.service`]: name,
    [`traefik.http.services.${name}.loadbalancer.server.port`]: String(config.containers.port),
  };

  if (config.traefik.certResolver) {
    labels[`${router}.entrypoints`] = config.traefik.tlsEntrypoint;
    labels[`${router}.tls`] = 'true';
    labels[`${router}.tls.certresolver`] = config.traefik.certResolver;
  } else {
    labels[`${router}.entrypoints`] = config.traefik.entrypoint;
  }

  if (config.routingMode === 'subdomain') {
    labels[`${router}.rule`] = `Host(\`${person.username}.${config.baseDomain}\`)`;
  } else {
    const prefix = `/${person.username}`;
    // PathPrefix is a plain string prefix: `/alice` alone would also take `/alice2/…`.
    labels[`${router}.rule`] = `Host(\`${config.baseDomain}\`) && (Path(\`${prefix}\`) || PathPrefix(\`${prefix}/\`))`;
    labels[`${router}.priority`] = String(USER_ROUTER_PRIORITY);
    // `/alice` → `/alice/`, so that the browser resolves relative links inside the prefix.
    const slash = `${name}-slash`;
    labels[`traefik.http.middlewares.${slash}.redirectregex.regex`] = `^(https?://[^/]+${prefix})(\\?.*)?$`;
    labels[`traefik.http.middlewares.${slash}.redirectregex.replacement`] = '${1}/${2}';
    labels[`traefik.http.middlewares.${slash}.redirectregex.permanent`] = 'true';
    const middlewares = [slash];
    if (config.stripPathPrefix) {
      const strip = `${name}-strip`;
      labels[`traefik.http.middlewares.${strip}.stripprefix.prefixes`] = prefix;
      middlewares.push(strip);
    }
    labels[`${router}.middlewares`] = middlewares.join(',');
  }

  labels[MANAGED_LABEL] = 'true';
  labels['spawner.user_id'] = String(person.id);
  labels['spawner.username'] = person.username;
  return labels;
}
