import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildLabels } from '../../src/containers/labels.js';
import { planFromConfig } from '../../src/containers/plan.js';

const alice = { id: 7, username: 'alice' };

describe('buildLabels', () => {
  it('subdomain mode: Host rule on the web entrypoint', () => {
    const config = loadConfig({ BASE_DOMAIN: 'apps.example.com' });
    expect(buildLabels(planFromConfig(config, alice))).toEqual({
      'traefik.enable': 'true',
      'traefik.docker.network': 'web',
      'traefik.http.routers.user-alice-7.rule': 'Host(`alice.apps.example.com`)',
      'traefik.http.routers.user-alice-7.entrypoints': 'web',
      'traefik.http.routers.user-alice-7.service': 'user-alice-7',
      'traefik.http.routers.user-alice-7.middlewares': 'spawner-auth@docker',
      'traefik.http.services.user-alice-7.loadbalancer.server.port': '8080',
      'spawner.managed': 'true',
      'spawner.user_id': '7',
      'spawner.username': 'alice',
    });
  });

  it('subdomain mode with a cert resolver: TLS on the TLS entrypoint', () => {
    const config = loadConfig({ BASE_DOMAIN: 'apps.example.com', TRAEFIK_CERTRESOLVER: 'le', TRAEFIK_NETWORK: 'proxy' });
    expect(buildLabels(planFromConfig(config, alice))).toEqual({
      'traefik.enable': 'true',
      'traefik.docker.network': 'proxy',
      'traefik.http.routers.user-alice-7.rule': 'Host(`alice.apps.example.com`)',
      'traefik.http.routers.user-alice-7.entrypoints': 'websecure',
      'traefik.http.routers.user-alice-7.tls': 'true',
      'traefik.http.routers.user-alice-7.tls.certresolver': 'le',
      'traefik.http.routers.user-alice-7.service': 'user-alice-7',
      'traefik.http.routers.user-alice-7.middlewares': 'spawner-auth@docker',
      'traefik.http.services.user-alice-7.loadbalancer.server.port': '8080',
      'spawner.managed': 'true',
      'spawner.user_id': '7',
      'spawner.username': 'alice',
    });
  });

  it('path mode: exact path or path with slash, slash redirect, then the access check, then the prefix stripped, priority above Spawner', () => {
    const config = loadConfig({ BASE_DOMAIN: 'coder.example.org', ROUTING_MODE: 'path' });
    expect(buildLabels(planFromConfig(config, alice))).toEqual({
      'traefik.enable': 'true',
      'traefik.docker.network': 'web',
      'traefik.http.routers.user-alice-7.rule': 'Host(`coder.example.org`) && (Path(`/alice`) || PathPrefix(`/alice/`))',
      'traefik.http.routers.user-alice-7.priority': '100',
      'traefik.http.routers.user-alice-7.entrypoints': 'web',
      'traefik.http.routers.user-alice-7.service': 'user-alice-7',
      'traefik.http.routers.user-alice-7.middlewares': 'user-alice-7-slash,spawner-auth@docker,user-alice-7-strip',
      'traefik.http.middlewares.user-alice-7-slash.redirectregex.regex': '^(https?://[^/]+/alice)(\\?.*)?$',
      'traefik.http.middlewares.user-alice-7-slash.redirectregex.replacement': '${1}/${2}',
      'traefik.http.middlewares.user-alice-7-slash.redirectregex.permanent': 'true',
      'traefik.http.middlewares.user-alice-7-strip.stripprefix.prefixes': '/alice',
      'traefik.http.services.user-alice-7.loadbalancer.server.port': '8080',
      'spawner.managed': 'true',
      'spawner.user_id': '7',
      'spawner.username': 'alice',
    });
  });

  it('path mode with a cert resolver and without stripping', () => {
    const config = loadConfig({
      BASE_DOMAIN: 'coder.example.org',
      ROUTING_MODE: 'path',
      TRAEFIK_CERTRESOLVER: 'le',
      PATH_STRIP_PREFIX: 'false',
    });
    const labels = buildLabels(planFromConfig(config, alice));
    expect(labels['traefik.http.routers.user-alice-7.entrypoints']).toBe('websecure');
    expect(labels['traefik.http.routers.user-alice-7.tls']).toBe('true');
    expect(labels['traefik.http.routers.user-alice-7.tls.certresolver']).toBe('le');
    expect(labels['traefik.http.routers.user-alice-7.middlewares']).toBe('user-alice-7-slash,spawner-auth@docker');
    expect(Object.keys(labels).some((k) => k.includes('stripprefix'))).toBe(false);
  });

  it("when TRAEFIK_AUTH_MIDDLEWARE names another middleware, then people's routers use that one; empty keeps the default", () => {
    const labels = buildLabels(planFromConfig(loadConfig({ TRAEFIK_AUTH_MIDDLEWARE: 'my-auth@file' }), alice));
    expect(labels['traefik.http.routers.user-alice-7.middlewares']).toBe('my-auth@file');
    const empty = buildLabels(planFromConfig(loadConfig({ TRAEFIK_AUTH_MIDDLEWARE: '' }), alice));
    expect(empty['traefik.http.routers.user-alice-7.middlewares']).toBe('spawner-auth@docker');
    expect(() => loadConfig({ TRAEFIK_AUTH_MIDDLEWARE: 'a b' })).toThrow(/TRAEFIK_AUTH_MIDDLEWARE/);
  });

  it('extra labels are added but can never override routing or ownership', () => {
    const config = loadConfig({ CONTAINER_EXTRA_LABELS: 'team=blue' });
    expect(buildLabels(planFromConfig(config, alice)).team).toBe('blue');
    expect(() => loadConfig({ CONTAINER_EXTRA_LABELS: 'spawner.managed=false' })).toThrow(/CONTAINER_EXTRA_LABELS/);
  });

  it('the slash redirect regex matches only the bare prefix', () => {
    const config = loadConfig({ BASE_DOMAIN: 'coder.example.org', ROUTING_MODE: 'path' });
    const regex = new RegExp(
      buildLabels(planFromConfig(config, alice))['traefik.http.middlewares.user-alice-7-slash.redirectregex.regex']!,
    );
    expect(regex.test('https://coder.example.org/alice')).toBe(true);
    expect(regex.test('http://coder.example.org:8081/alice?x=1')).toBe(true);
    expect(regex.test('https://coder.example.org/alice/')).toBe(false);
    expect(regex.test('https://coder.example.org/alice2')).toBe(false);
    expect(regex.test('https://coder.example.org/alice/page')).toBe(false);
  });
});
