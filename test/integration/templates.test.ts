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
import { execIn } from '../helpers/exec.js';
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

describe('switching template', () => {
  it('when the person confirms a switch, then the container is recreated from the new template and a file on the volume survives', async () => {
    const { response } = await signUpWith('tswitch', 'web');
    expectRedirect(response, '/dashboard');
    const agent = request.agent(t.app);
    const login = await agent.get('/login');
    await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(login.text), username: 'tswitch', password: 'correct horse battery' });
    const before = await containerFor('tswitch');
    const dataPath = t.config.containers.dataPath;
    expect((await execIn(before.Id, ['sh', '-c', `echo kept > ${dataPath}/note.txt`])).exitCode).toBe(0);

    const page = await agent.get('/dashboard');
    expect(page.text).toContain('Switch template');
    const unconfirmed = await agent
      .post('/container/template')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), template: 'checked' });
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.text).toContain('Tick the box to confirm');
    const forbidden = await agent
      .post('/container/template')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), template: 'staff', confirm: 'yes' });
    expect(forbidden.status).toBe(422);
    const image = await agent
      .post('/container/template')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), template: TEST_IMAGE, confirm: 'yes' });
    expect(image.status).toBe(422);
    expect((await containerFor('tswitch')).Id).toBe(before.Id);

    const switched = await agent
      .post('/container/template')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), template: 'checked', confirm: 'yes' });
    expectRedirect(switched, '/dashboard');
    const after = await containerFor('tswitch');
    expect(after.Id).not.toBe(before.Id);
    expect(after.Config.Image).toBe(TEST_IMAGE_HEALTHCHECK);
    expect(after.Config.Env).toContain('FLAVOUR=checked');
    expect(after.Mounts.map((m) => m.Name)).toEqual(before.Mounts.map((m) => m.Name));
    expect((await execIn(after.Id, ['cat', `${dataPath}/note.txt`])).stdout).toContain('kept');
    expect((await t.services.users.findByUsername('tswitch'))?.template).toBe('checked');
  });
});
