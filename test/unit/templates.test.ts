import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CatalogueError, parseCatalogue } from '../../src/templates/catalogue.js';
import { planFromConfig } from '../../src/containers/plan.js';
import { buildContainerSpec } from '../../src/containers/docker/spec.js';

const defaults = { idleTimeoutMs: 3_600_000, pauseAfterMs: 0 };

function problemsOf(text: string): string[] {
  try {
    parseCatalogue(text, 'templates.yml', defaults);
  } catch (error) {
    if (error instanceof CatalogueError) return error.problems;
    throw error;
  }
  throw new Error('the catalogue was accepted');
}

function writeCatalogue(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'spawner-templates-')), 'templates.yml');
  writeFileSync(file, text);
  return file;
}

const VALID = `templates:
  - name: static
    title: Static page
    description: A small web page, served by nginx
    image: user-service-template:latest
    port: 8080
    memory: 256m
    cpus: 0.25
    pids: 64
    idleTimeout: 10m
    pauseAfter: 2m
    default: true
  - name: ide
    title: VS Code in the browser
    image: codercom/code-server:4
    port: 8443
    env: { SOME_SETTING: "value", WORKERS: 2 }
    command: [code-server, --auth, none]
    readOnly: true
    dataPath: /home/coder
    readiness: { http: /healthz }
    allowed: admins
`;

describe('the templates catalogue', () => {
  it('when the file is valid, then every field arrives in the plan units', () => {
    const [staticT, ide] = parseCatalogue(VALID, 'templates.yml', defaults);
    expect(staticT).toMatchObject({
      name: 'static',
      title: 'Static page',
      port: 8080,
      limits: { memoryBytes: 256 * 1024 ** 2, cpus: 0.25, pidsLimit: 64 },
      idleTimeoutMs: 600_000,
      pauseAfterMs: 120_000,
      allowed: 'everyone',
      default: true,
    });
    expect(ide).toMatchObject({
      name: 'ide',
      description: '',
      env: { SOME_SETTING: 'value', WORKERS: '2' },
      command: ['code-server', '--auth', 'none'],
      readOnly: true,
      dataPath: '/home/coder',
      readiness: { http: '/healthz' },
      allowed: 'admins',
      default: false,
    });
  });

  it('when no template says default, then the first one is', () => {
    const list = parseCatalogue(VALID.replace('    default: true\n', ''), 'templates.yml', defaults);
    expect(list.map((t) => t.default)).toEqual([true, false]);
    const swapped = parseCatalogue(
      'templates:\n  - { name: b, title: B, image: b:1, port: 80 }\n  - { name: c, title: C, image: c:1, port: 80, default: true }\n',
      'f',
      defaults,
    );
    expect(swapped.map((t) => t.default)).toEqual([false, true]);
  });

  it('when the file has several errors, then each is reported with its line', () => {
    const problems = problemsOf(`templates:
  - name: Not A Slug
    title: ""
    image: "bad image!"
    port: 70000
    memory: lots
    colour: blue
  - name: two
    title: Two
    image: ok:1
    port: 8080
    env: { SPAWNER_USER: x }
    allowed: somebody
    readiness: tcp
`);
    expect(problems).toEqual([
      expect.stringMatching(/^templates\.yml:2: templates\[0\]\.name: must be a lowercase slug/),
      expect.stringMatching(/^templates\.yml:3: templates\[0\]\.title: must not be empty/),
      expect.stringMatching(/^templates\.yml:4: templates\[0\]\.image: must be a Docker image reference/),
      'templates.yml:5: templates[0].port: must be at most 65535',
      expect.stringMatching(/^templates\.yml:6: templates\[0\]\.memory: must be a size/),
      expect.stringMatching(/^templates\.yml:7: templates\[0\]: unknown field colour/),
      expect.stringMatching(/^templates\.yml:12: templates\[1\]\.env\.SPAWNER_USER: SPAWNER_\* variables are set by Spawner/),
      expect.stringMatching(/^templates\.yml:13: templates\[1\]\.allowed: /),
      expect.stringMatching(/^templates\.yml:14: templates\[1\]\.readiness: /),
    ]);
    for (const p of problems) expect(p).not.toContain('\n');
  });

  it('when names repeat, two are default, or a pause is not before the stop, then all are reported', () => {
    const problems = problemsOf(`templates:
  - { name: a, title: A, image: a:1, port: 80, default: true, allowed: admins }
  - { name: a, title: A2, image: a:2, port: 80, default: true, pauseAfter: 2h }
`);
    expect(problems).toEqual([
      'templates.yml:3: templates[1].name: "a" is listed twice',
      'templates.yml:3: templates[1].pauseAfter: must be shorter than the idle timeout (pausing comes first)',
      'templates.yml: templates: only one template may be the default (a, a)',
      'templates.yml: templates: the default template (a) must be allowed for everyone',
    ]);
  });

  it('when the YAML itself is broken, then the parser error names the line', () => {
    const problems = problemsOf('templates:\n  - name: a\n    title: [unclosed\n');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^templates\.yml:\d+: /);
  });

  it('when TEMPLATES_FILE has errors, then loadConfig reports them with the other settings', () => {
    const file = writeCatalogue('templates:\n  - name: x\n    port: nope\n');
    let error: unknown;
    try {
      loadConfig({ TEMPLATES_FILE: file, CONTAINER_PIDS_LIMIT: '1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toContainEqual(expect.stringMatching(/^CONTAINER_PIDS_LIMIT: /));
    expect(problems).toContainEqual(expect.stringContaining(`TEMPLATES_FILE: ${file}:2: templates[0].title: is required`));
    expect(problems).toContainEqual(expect.stringContaining(`TEMPLATES_FILE: ${file}:3: templates[0].port: `));
  });

  it('when the shipped templates.example.yml is read, then it is a valid catalogue', () => {
    const text = readFileSync(new URL('../../templates.example.yml', import.meta.url), 'utf8');
    expect(parseCatalogue(text, 'templates.example.yml', defaults).map((t) => t.name)).toEqual(['static', 'ide']);
  });

  it('when TEMPLATES_FILE cannot be read, then that is one problem', () => {
    expect(() => loadConfig({ TEMPLATES_FILE: '/nonexistent/templates.yml' })).toThrow(/templates\.yml: cannot be read \(ENOENT\)/);
  });

  it('when TEMPLATES_FILE is valid, then the config carries the catalogue', () => {
    const config = loadConfig({ TEMPLATES_FILE: writeCatalogue(VALID) });
    expect(config.templates.list.map((t) => t.name)).toEqual(['static', 'ide']);
  });
});

describe('the default template (no TEMPLATES_FILE)', () => {
  // Captured from the container spec Spawner built before templates existed (same hash label:
  // an upgrade recreates no container).
  const today = JSON.parse(readFileSync(new URL('../fixtures/default-template/specs.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

  it("when only the container settings are given, then one template named default yields today's exact spec", () => {
    const config = loadConfig({ CONTAINER_EXTRA_LABELS: 'team=blue', CONTAINER_CAP_ADD: 'NET_BIND_SERVICE' });
    expect(config.templates.list.map((t) => [t.name, t.image, t.default])).toEqual([['default', 'user-service-template:latest', true]]);
    const plan = planFromConfig(config, { id: 7, username: 'alice' });
    expect(plan.template).toBe('default');
    expect(buildContainerSpec(plan, { id: 'sha256:abc', user: '' })).toEqual(today.subdomain);
  });

  it("when every container setting is changed, then plan and spec are still today's", () => {
    const config = loadConfig({
      ROUTING_MODE: 'path',
      CONTAINER_READ_ONLY: 'true',
      CONTAINER_USER: '1234:1234',
      USER_DATA_PATH: '/srv/data',
      DEFAULT_MEMORY_LIMIT: '1g',
      CONTAINER_PIDS_LIMIT: '100',
      CONTAINER_IDLE_TIMEOUT: '10m',
    });
    const plan = planFromConfig(config, { id: 3, username: 'bob' });
    expect(JSON.parse(JSON.stringify(plan))).toEqual(today.pathPlan);
    expect(buildContainerSpec(plan, { id: 'sha256:def', user: 'node' })).toEqual(today.path);
  });
});
