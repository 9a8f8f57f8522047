// /admin over real HTTP, on either dialect and the real Docker engine: who may see it, CSRF on its
// forms, and each action's effect read back from the database and from Docker.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, containerOf, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { signUp, tokenFor } from '../helpers/http.js';

const runId = inject('runId');
let t: TestApp;
let admin: ReturnType<typeof request.agent>;
let person: ReturnType<typeof request.agent>;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-admin`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, ADMIN_USERS: 'adm-root' } });
  admin = request.agent(t.app);
  person = request.agent(t.app);
  await signUp(admin, { username: 'adm-root' });
  await signUp(person, { username: 'adm-pat' });
});

afterAll(() => t?.close());

const auditCount = async (action: string, target: string) =>
  (await t.query('SELECT id FROM audit_log WHERE action = ? AND target = ? AND actor_kind = ?', action, target, 'admin')).length;

async function post(agent: ReturnType<typeof request.agent>, path: string, fields: Record<string, string> = {}) {
  const token = await tokenFor(agent, '/dashboard');
  return agent
    .post(path)
    .type('form')
    .send({ _csrf: token, ...fields });
}

describe('who may use /admin', () => {
  it('when ADMIN_USERS names a person, then their signup makes them an admin; others are not', async () => {
    expect((await t.services.users.findByUsername('adm-root'))?.isAdmin).toBe(true);
    expect((await t.services.users.findByUsername('adm-pat'))?.isAdmin).toBe(false);
  });

  it('when a non-admin asks for any /admin page or action, then 403 and nothing changes', async () => {
    expect((await person.get('/admin')).status).toBe(403);
    expect((await person.get('/admin/audit')).status).toBe(403);
    const refused = await post(person, '/admin/act', { name: 'adm-root', action: 'remove-admin' });
    expect(refused.status).toBe(403);
    expect((await t.services.users.findByUsername('adm-root'))?.isAdmin).toBe(true);
  });

  it('when nobody is logged in, then the page leads to the login and a POST is 401', async () => {
    expect((await request(t.app).get('/admin')).status).toBe(303);
    expect((await request(t.app).post('/admin/act')).status).toBe(401);
  });

  it('when an admin posts without the CSRF token, then 403 csrf_failed and nothing happens', async () => {
    const response = await admin
      .post('/admin/act')
      .type('form')
      .set('Accept', 'application/json')
      .send({ name: 'adm-pat', action: 'disable' });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: 'csrf_failed' });
    expect((await t.services.users.findByUsername('adm-pat'))?.disabled).toBe(false);
  });

  it('when an admin opens /admin, then the overview and the people table answer, not cached', async () => {
    const page = await admin.get('/admin');
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toContain('no-store');
    expect(page.text).toContain('data-user="adm-pat"');
    expect(page.text).toMatch(/data-accounts>2</);
    const filtered = await admin.get('/admin?q=pat');
    expect(filtered.text).toContain('data-user="adm-pat"');
    expect(filtered.text).not.toContain('data-user="adm-root"');
  });
});

describe('row actions', () => {
  it('when an admin stops a running container, then Docker has it stopped and one admin audit row says so; start brings it back', async () => {
    const { name } = await containerOf(t, 'adm-pat');
    const docker = dockerClient();
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(true);
    expect((await post(admin, '/admin/act', { name: 'adm-pat', action: 'stop' })).status).toBe(303);
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(false);
    await t.services.audit.flush();
    expect(await auditCount('container.stop', 'adm-pat')).toBe(1);
    // The lifecycle listener leaves admin-caused events to the admin row: no second row.
    expect((await t.query('SELECT id FROM audit_log WHERE action = ? AND target = ?', 'container.stop', 'adm-pat')).length).toBe(1);
    // The states come from the cache that follows Docker's events: give the stop event a moment (bounded).
    let running = await admin.get('/admin?running=1');
    for (let i = 0; i < 50 && running.text.includes('data-user="adm-pat"'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      running = await admin.get('/admin?running=1');
    }
    expect(running.text).not.toContain('data-user="adm-pat"');
    expect(running.text).toContain('data-user="adm-root"');
    expect((await post(admin, '/admin/act', { name: 'adm-pat', action: 'start' })).status).toBe(303);
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(true);
    expect(await auditCount('container.start', 'adm-pat')).toBe(1);
  });

  it('when an admin makes a person an admin and disables and enables them, then the database follows, one row each', async () => {
    await post(admin, '/admin/act', { name: 'adm-pat', action: 'make-admin' });
    expect((await t.services.users.findByUsername('adm-pat'))?.isAdmin).toBe(true);
    await post(admin, '/admin/act', { name: 'adm-pat', action: 'remove-admin' });
    expect((await t.services.users.findByUsername('adm-pat'))?.isAdmin).toBe(false);
    await post(admin, '/admin/act', { name: 'adm-pat', action: 'disable' });
    expect((await t.services.users.findByUsername('adm-pat'))?.disabled).toBe(true);
    // The disabled person's session is over.
    expect((await person.get('/dashboard')).status).toBe(303);
    await post(admin, '/admin/act', { name: 'adm-pat', action: 'enable' });
    expect((await t.services.users.findByUsername('adm-pat'))?.disabled).toBe(false);
    expect(await auditCount('user.set-admin', 'adm-pat')).toBe(2);
    expect(await auditCount('user.disable', 'adm-pat')).toBe(1);
    expect(await auditCount('user.enable', 'adm-pat')).toBe(1);
  });

  it('when the audit viewer is filtered by person and action, then it lists those rows', async () => {
    const page = await admin.get('/admin/audit?person=adm-pat&action=user.disable');
    expect(page.status).toBe(200);
    expect(page.text.match(/data-action="user.disable"/g)).toHaveLength(1);
    expect(page.text).not.toContain('data-action="user.enable"');
  });

  it('when an admin deletes without typing the name, then nothing is deleted; with it, the account, container and volume are gone', async () => {
    const { name } = await containerOf(t, 'adm-pat');
    await post(admin, '/admin/act', { name: 'adm-pat', action: 'delete', confirm: 'nope' });
    expect(await t.services.users.findByUsername('adm-pat')).toBeDefined();
    expect((await post(admin, '/admin/act', { name: 'adm-pat', action: 'delete', confirm: 'adm-pat' })).status).toBe(303);
    expect(await t.services.users.findByUsername('adm-pat')).toBeUndefined();
    const docker = dockerClient();
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(`${name}-data`).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(await auditCount('user.delete', 'adm-pat')).toBe(1);
  });
});
