// Who may sign up, over real HTTP on either dialect: SIGNUP_MODE=approval with an allowlisted
// domain approved at once, a pending person who sees only the waiting page and gets no container
// until an admin approves; SIGNUP_MODE=closed; MAX_USERS; a domain allowlist in open mode.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, containerOf, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { logIn, signUp, tokenFor } from '../helpers/http.js';

const runId = inject('runId');
let network: string;
const apps: TestApp[] = [];

beforeAll(async () => {
  network = await createTestNetwork(runId, `spawner-test-${runId}-signup-policy`);
});

afterAll(async () => {
  for (const t of apps) await t.close();
});

function app(env: Record<string, string>): TestApp {
  const t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, ...env } });
  apps.push(t);
  return t;
}

const containerExists = async (name: string) =>
  dockerClient()
    .getContainer(name)
    .inspect()
    .then(
      () => true,
      (e: { statusCode?: number }) => (e.statusCode === 404 ? false : Promise.reject(e)),
    );

describe('SIGNUP_MODE=approval', () => {
  it('when a listed domain signs up, then approved at once; others wait, get no container, see the waiting page, and start once approved', async () => {
    const t = app({ SIGNUP_MODE: 'approval', SIGNUP_EMAIL_DOMAINS: 'school.example', ADMIN_USERS: 'pol-admin' });
    const admin = request.agent(t.app);
    await signUp(admin, { username: 'pol-admin', email: 'pol-admin@school.example' });
    expect((await t.services.users.findByUsername('pol-admin'))?.approval).toBe('approved');

    const waiting = request.agent(t.app);
    const response = await signUp(waiting, { username: 'pol-wait', email: 'wait@elsewhere.example' });
    expect(response.status).toBe(303);
    const { user, name } = await containerOf(t, 'pol-wait');
    expect(user.approval).toBe('pending');
    expect(await containerExists(name)).toBe(false);
    const page = await waiting.get('/dashboard');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Waiting for approval');
    const token = await tokenFor(waiting, '/dashboard');
    expect((await waiting.post('/container/start').type('form').send({ _csrf: token })).status).toBe(403);
    // Logging in again shows the same page and starts nothing.
    expect((await logIn(request.agent(t.app), { username: 'pol-wait' })).status).toBe(303);
    expect(await containerExists(name)).toBe(false);
    // The admin sees the pending count and approves.
    expect((await admin.get('/admin')).text).toMatch(/data-pending>1</);
    const adminToken = await tokenFor(admin, '/dashboard');
    expect((await admin.post('/admin/act').type('form').send({ name: 'pol-wait', action: 'approve', _csrf: adminToken })).status).toBe(303);
    expect((await t.services.users.findByUsername('pol-wait'))?.approval).toBe('approved');
    expect((await logIn(request.agent(t.app), { username: 'pol-wait' })).status).toBe(303);
    expect(await containerExists(name)).toBe(true);
    const rows = await t.query('SELECT result FROM audit_log WHERE action = ? AND target = ?', 'signup.approve', 'pol-wait');
    expect(rows).toHaveLength(1);
  });

  it('when an admin rejects a pending signup, then the account is gone and one row says so', async () => {
    const t = app({ SIGNUP_MODE: 'approval', ADMIN_USERS: 'pol-admin2' });
    const admin = request.agent(t.app);
    await signUp(admin, { username: 'pol-admin2' });
    await t.services.people.approve('pol-admin2', { actor: { kind: 'system', name: 'test' } });
    await signUp(request.agent(t.app), { username: 'pol-no' });
    const token = await tokenFor(admin, '/dashboard');
    await admin.post('/admin/act').type('form').send({ name: 'pol-no', action: 'reject', _csrf: token });
    expect(await t.services.users.findByUsername('pol-no')).toBeUndefined();
    expect(await t.query('SELECT id FROM audit_log WHERE action = ? AND target = ?', 'signup.reject', 'pol-no')).toHaveLength(1);
  });
});

describe('refusals', () => {
  it('when signups are closed, then the form says so, nothing is created, one refused row', async () => {
    const t = app({ SIGNUP_MODE: 'closed' });
    const response = await signUp(request.agent(t.app), { username: 'pol-closed' });
    expect(response.status).toBe(422);
    expect(response.text).toContain('New accounts are closed on this server.');
    expect(await t.services.users.count()).toBe(0);
    expect(await t.query('SELECT id FROM audit_log WHERE action = ? AND result = ?', 'signup', 'refused')).toHaveLength(1);
  });

  it('when MAX_USERS is reached, then the next signup is refused with a clear message', async () => {
    const t = app({ MAX_USERS: '1' });
    expect((await signUp(request.agent(t.app), { username: 'pol-first' })).status).toBe(303);
    const second = await signUp(request.agent(t.app), { username: 'pol-second' });
    expect(second.status).toBe(422);
    expect(second.text).toContain('as many accounts as it can take');
    expect(await t.services.users.count()).toBe(1);
  });

  it('when open mode has a domain allowlist, then another domain is refused', async () => {
    const t = app({ SIGNUP_EMAIL_DOMAINS: 'school.example' });
    const refused = await signUp(request.agent(t.app), { username: 'pol-out', email: 'x@other.example' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('school.example');
    expect((await signUp(request.agent(t.app), { username: 'pol-in', email: 'x@school.example' })).status).toBe(303);
  });
});
