// Property tests of what reaches Docker and Traefik: for every username the rules accept, the
// container name, labels, environment and router rule are built from allowlisted characters only,
// and the username enters them only by plain substitution (the same spec as for a reference name,
// with that name replaced). Pure functions, no Docker needed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { signupForm, usernameProblem } from '../../src/auth/validation.js';
import { buildLabels } from '../../src/containers/labels.js';
import { planFromConfig } from '../../src/containers/plan.js';
import { buildContainerSpec, SPEC_HASH_LABEL } from '../../src/containers/docker/spec.js';
import { containerName, volumeName } from '../../src/containers/naming.js';
import { hostileText, nearlyValidName } from '../helpers/hostile.js';

const rules = { reserved: ['spawner', 'hub'] };
const IMAGE = { id: 'sha256:0123456789abcdef', user: '' };
const REFERENCE = 'zqxjkref';

const configs: [string, Readonly<Config>][] = [
  ['subdomain', loadConfig({ BASE_DOMAIN: 'apps.example.com' })],
  ['subdomain + TLS', loadConfig({ BASE_DOMAIN: 'apps.example.com', TRAEFIK_CERTRESOLVER: 'le' })],
  ['path', loadConfig({ BASE_DOMAIN: 'example.org', ROUTING_MODE: 'path' })],
  [
    'path, no strip, TLS',
    loadConfig({ BASE_DOMAIN: 'example.org', ROUTING_MODE: 'path', PATH_STRIP_PREFIX: 'false', TRAEFIK_CERTRESOLVER: 'le' }),
  ],
];

/** Usernames as the signup form would store them, kept only when the rules accept them. */
const acceptedName = fc
  .oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$/), nearlyValidName, hostileText)
  .map((typed) => signupForm.parse({ username: typed }).username)
  .filter((name) => usernameProblem(name, rules) === null && !name.includes(REFERENCE));

const person = fc.record({ id: fc.integer({ min: 1, max: 2 ** 31 - 1 }), username: acceptedName });

const LABEL_KEY = /^[a-z0-9][a-z0-9._-]*$/;
const DOCKER_NAME = /^[a-z0-9][a-z0-9-]*$/;

function expectedRule(config: Readonly<Config>, username: string): string {
  return config.routingMode === 'subdomain'
    ? `Host(\`${username}.${config.baseDomain}\`)`
    : `Host(\`${config.baseDomain}\`) && (Path(\`/${username}\`) || PathPrefix(\`/${username}/\`))`;
}

describe.each(configs)('%s mode', (_name, config) => {
  it('when any accepted username is used, then names, label keys and the router rule hold only allowlisted characters', () => {
    fc.assert(
      fc.property(person, (p) => {
        const name = containerName(config, p);
        expect(name).toMatch(DOCKER_NAME);
        expect(volumeName(config, p)).toMatch(DOCKER_NAME);
        const labels = buildLabels(planFromConfig(config, p));
        for (const key of Object.keys(labels)) expect(key).toMatch(LABEL_KEY);
        const rule = labels[`traefik.http.routers.${name}.rule`];
        // The rule is exactly the template: the name sits between backticks and cannot close them.
        expect(rule).toBe(expectedRule(config, p.username));
        expect(rule).toMatch(/^[A-Za-z0-9.`()&|/ -]+$/);
        expect(rule!.split('`').length - 1).toBe(config.routingMode === 'subdomain' ? 2 : 6);
        expect(labels['spawner.username']).toBe(p.username);
      }),
      { numRuns: 500 },
    );
  });

  it('when any accepted username is used, then the whole spec equals the reference spec with only the name substituted', () => {
    const reference = (id: number) => {
      const spec = buildContainerSpec(planFromConfig(config, { id, username: REFERENCE }), IMAGE);
      delete spec.Labels![SPEC_HASH_LABEL];
      return JSON.stringify(spec);
    };
    fc.assert(
      fc.property(person, (p) => {
        const spec = buildContainerSpec(planFromConfig(config, p), IMAGE);
        expect(spec.Labels![SPEC_HASH_LABEL]).toMatch(/^[0-9a-f]{16}$/);
        delete spec.Labels![SPEC_HASH_LABEL];
        expect(JSON.stringify(spec)).toBe(reference(p.id).replaceAll(REFERENCE, p.username));
        for (const entry of spec.Env ?? []) expect(entry).toMatch(/^[A-Z_]+=[A-Za-z0-9:/._-]*$/);
        expect(spec.HostConfig?.Mounts?.every((m) => m.Type === 'volume')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
