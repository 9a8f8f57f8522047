// Builds every label a person's workload carries: Traefik's routing and Spawner's own markers, from
// the person's plan. Pure, so the exact map can be read in one place and tested as data; outside
// docker/ because a Swarm service carries the same labels.
import type { WorkloadPlan } from './plan.js';

/** Above Spawner's own routers (2 and 1) so a person's path always wins; paths never overlap. */
export const USER_ROUTER_PRIORITY = 100;

export const MANAGED_LABEL = 'spawner.managed';
export const USER_ID_LABEL = 'spawner.user_id';
export const USERNAME_LABEL = 'spawner.username';
/** Label holding a hash of the spec, so a workload built from an older plan can be recognised. */
export const SPEC_HASH_LABEL = 'spawner.spec_hash';

/** Spawner's markers on everything it creates for a person (workload and volume alike). */
export function ownerLabels(plan: Pick<WorkloadPlan, 'person' | 'extraLabels'>): Record<string, string> {
  return {
    ...plan.extraLabels,
    [MANAGED_LABEL]: 'true',
    [USER_ID_LABEL]: String(plan.person.id),
    [USERNAME_LABEL]: plan.person.username,
  };
}

export function buildLabels(plan: WorkloadPlan): Record<string, string> {
  const { name, routing } = plan;
  const router = `traefik.http.routers.${name}`;
  const labels: Record<string, string> = {
    ...plan.extraLabels,
    'traefik.enable': 'true',
    'traefik.docker.network': plan.network,
    [`${router}.service`]: name,
    [`traefik.http.services.${name}.loadbalancer.server.port`]: String(plan.port),
  };

  if (routing.certResolver) {
    labels[`${router}.entrypoints`] = routing.tlsEntrypoint;
    labels[`${router}.tls`] = 'true';
    labels[`${router}.tls.certresolver`] = routing.certResolver;
  } else {
    labels[`${router}.entrypoints`] = routing.entrypoint;
  }

  if (routing.mode === 'subdomain') {
    labels[`${router}.rule`] = `Host(\`${routing.host}\`)`;
    // Every request is checked by Spawner first (routes/access.ts).
    labels[`${router}.middlewares`] = routing.authMiddleware;
  } else {
    const prefix = routing.path.replace(/\/$/, '');
    // PathPrefix is a plain string prefix: `/alice` alone would also take `/alice2/…`.
    labels[`${router}.rule`] = `Host(\`${routing.host}\`) && (Path(\`${prefix}\`) || PathPrefix(\`${prefix}/\`))`;
    labels[`${router}.priority`] = String(USER_ROUTER_PRIORITY);
    // `/alice` → `/alice/`, so that the browser resolves relative links inside the prefix.
    const slash = `${name}-slash`;
    labels[`traefik.http.middlewares.${slash}.redirectregex.regex`] = `^(https?://[^/]+${prefix})(\\?.*)?$`;
    labels[`traefik.http.middlewares.${slash}.redirectregex.replacement`] = '${1}/${2}';
    labels[`traefik.http.middlewares.${slash}.redirectregex.permanent`] = 'true';
    // The check after the slash redirect (the access cookie's Path=/alice/ is not sent to /alice,
    // so checking first would loop through the login) and before the prefix is stripped (so
    // X-Forwarded-Uri still names the person).
    const middlewares = [slash, routing.authMiddleware];
    if (routing.stripPrefix) {
      const strip = `${name}-strip`;
      labels[`traefik.http.middlewares.${strip}.stripprefix.prefixes`] = prefix;
      middlewares.push(strip);
    }
    labels[`${router}.middlewares`] = middlewares.join(',');
  }

  labels[MANAGED_LABEL] = 'true';
  labels[USER_ID_LABEL] = String(plan.person.id);
  labels[USERNAME_LABEL] = plan.person.username;
  return labels;
}
