// Templates on the real engine: each template's image, port, environment and limits read back with
// inspect; a name a person may not use, an unknown one or an image reference creates nothing.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { expectRedirect } from '../helpers/http.js';
import { csrfFrom } from '../helpers/http.js';
import { TEST_IMAGE, TEST_IMAGE_HEALTHCHECK } from '../helpers/testImage.js';

const runId = inject('runId');
const docker = dockerClient();
let t: TestApp;

const CATALOGUE = `templates:
  - name: web
    title: Web page
    description: The test page
    image: ${TEST_IMAGE}
    port: 8080
    env: { GREETING: hello }
    memory: 256m
    cpus: 0.25
    pids: 64
    default: true
  - name: checked
    title: With a health check
    image: ${TEST_IMAGE_HEALTHCHECK}
    port: 8080
    env: { FLAVOUR: checked }
    memory: 128m
  - name: staff
    title: Staff only
    image: ${TEST_IMAGE}
    port: 8080
    allowed: admins
`;

async function signUpWith(username: string, template?: string) {
  const agent = request.agent(t.app);
  const page = await agent.get('/signup');
  return {
    page,
    response: await agent
      .post('/signup')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        username,
        email: `${username}@example.com`,
        password: 'correct horse battery',
        ...(template === undefined ? {} : { template }),
      }),
  };
}

const containerFor = async (username: string) => {
  const user = await t.services.users.findByUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  return docker.getContainer(`${t.config.containers.namePrefix}-${username}-${user.id}`).inspect();
};

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-templates`);
  const file = join(mkdtempSync(join(tmpdir(), 'spawner-templates-')), 'templates.yml');
  writeFileSync(file, CATALOGUE);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, TEMPLATES_FILE: file } });
});

afterAll(() => t?.close());

describe('templates on the real engine', () => {
  it('when the signup page is shown, then it offers the templates a newcomer may use with title and description', async () => {
    const page = await request(t.app).get('/signup');
    expect(page.text).toContain('value="web" checked');
    expect(page.text).toContain('The test page');
    expect(page.text).toContain('value="checked"');
    expect(page.text).not.toContain('value="staff"');
  });

  it('when a person signs up with a template, then the container has its image, port, environment and limits', async () => {
    const { response } = await signUpWith('tchecked', 'checked');
    expectRedirect(response, '/dashboard');
    const info = await containerFor('tchecked');
    expect(info.Config.Image).toBe(TEST_IMAGE_HEALTHCHECK);
    expect(info.Config.Env).toContain('FLAVOUR=checked');
    expect(info.Config.Env).not.toContain('GREETING=hello');
    expect(info.HostConfig.Memory).toBe(128 * 1024 ** 2);
    expect(info.HostConfig.CpuQuota).toBe(t.config.containers.cpuQuota);
    expect(info.HostConfig.PidsLimit).toBe(t.config.containers.pidsLimit);
    expect(Object.values(info.Config.Labels)).toContain('8080');
    expect((await t.services.users.findByUsername('tchecked'))?.template).toBe('checked');
  });

  it('when a person signs up without choosing, then the default template with its own limits is used', async () => {
    const { response } = await signUpWith('tdefault');
    expectRedirect(response, '/dashboard');
    const info = await containerFor('tdefault');
    expect(info.Config.Image).toBe(TEST_IMAGE);
    expect(info.Config.Env).toContain('GREETING=hello');
    expect(info.HostConfig.Memory).toBe(256 * 1024 ** 2);
    expect(info.HostConfig.CpuQuota).toBe(25_000);
    expect(info.HostConfig.PidsLimit).toBe(64);
  });

  it.each([
    ['a template for admins only', 'staff', 'This template is not open to new accounts.'],
    ['an unknown name', 'nosuch', 'Choose one of the templates offered.'],
    ['an image reference', TEST_IMAGE, 'Choose one of the templates offered.'],
    ['an image reference of a catalogue image', 'busybox:latest', 'Choose one of the templates offered.'],
  ])('when the form sends %s, then 422 with a field message and nothing is created', async (_what, template, message) => {
    const username = `tbad${Math.random().toString(36).slice(2, 8)}`;
    const before = await docker.listContainers({ all: true, filters: { name: [username] } });
    const { response } = await signUpWith(username, template);
    expect(response.status).toBe(422);
    expect(response.text).toContain(message);
    expect(await t.services.users.findByUsername(username)).toBeUndefined();
    expect(await docker.listContainers({ all: true, filters: { name: [username] } })).toEqual(before);
  });
});
