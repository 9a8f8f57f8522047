// The audit log over real HTTP, on either dialect: failed logins and lockouts, the container start
// a signup causes, each leaving exactly one row; the retention prune; and no route that changes a row.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork } from '../helpers/docker.js';
import { logIn, signUp } from '../helpers/http.js';

const runId = inject('runId');
let t: TestApp;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-audit`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, RATE_LIMIT_LOGIN_PER_MINUTE: '2', AUDIT_RETENTION_DAYS: '30' } });
});

afterAll(() => t?.close());

const rows = (action: string, target: string) =>
  t.query<{ actor_kind: string; actor_name: string; result: string; client: string | null; details: string }>(
    'SELECT actor_kind, actor_name, result, client, details FROM audit_log WHERE action = ? AND target = ?',
    action,
    target,
  );

describe('audit rows', () => {
  it('when a person signs up, then their container start is one row with the reason, by the person', async () => {
    await signUp(request.agent(t.app), { username: 'aud-amy' });
    await t.services.audit.flush();
    const started = await rows('container.start', 'aud-amy');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ actor_kind: 'person', actor_name: 'aud-amy', result: 'ok' });
    expect(JSON.parse(started[0]!.details)).toMatchObject({ reason: 'login' });
  });

  it('when logins fail until the limit, then one login.failed row per failure and one login.lockout row for the refusal', async () => {
    for (let i = 0; i < 2; i++)
      expect((await logIn(request.agent(t.app), { username: 'aud-amy', password: 'wrong password!' })).status).toBe(401);
    expect((await logIn(request.agent(t.app), { username: 'aud-amy', password: 'wrong password!' })).status).toBe(429);
    await t.services.audit.flush();
    const failed = await rows('login.failed', 'aud-amy');
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ result: 'refused' });
    expect(failed[0]!.client).toMatch(/127\.0\.0\.1|::1|::ffff:127\.0\.0\.1/);
    const lockouts = await rows('login.lockout', 'aud-amy');
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]).toMatchObject({ actor_kind: 'system', actor_name: 'rate-limit', result: 'refused' });
  });

  it('when rows are older than AUDIT_RETENTION_DAYS, then the prune deletes those and keeps the rest', async () => {
    const old = new Date(Date.now() - 31 * 86_400_000);
    await t.services.audit.record({ actor: { kind: 'system', name: 'test' }, action: 'test.old', target: 'aud-prune', at: old });
    await t.services.audit.record({ actor: { kind: 'system', name: 'test' }, action: 'test.new', target: 'aud-prune' });
    const gone = await t.services.audit.prune();
    expect(gone).toBeGreaterThanOrEqual(1);
    expect(await rows('test.old', 'aud-prune')).toHaveLength(0);
    expect(await rows('test.new', 'aud-prune')).toHaveLength(1);
  });

  it('when the audit store is read with filters, then newest first, by person and action', async () => {
    const page = await t.database.audit.query({ person: 'aud-amy', action: 'login.failed', offset: 0, limit: 10 });
    expect(page.total).toBe(2);
    expect(page.items.map((r) => r.action)).toEqual(['login.failed', 'login.failed']);
    expect(page.items[0]!.at.getTime()).toBeGreaterThanOrEqual(page.items[1]!.at.getTime());
  });

  it('then no route answers a change to the log (there is no audit URL but the admin viewer)', async () => {
    for (const method of ['post', 'put', 'patch', 'delete'] as const) {
      const response = await request(t.app)[method]('/admin/audit');
      expect([401, 403, 404, 405]).toContain(response.status);
    }
    expect(Object.keys(t.database.audit).filter((k) => /update|set|delete/i.test(k))).toEqual([]);
  });
});
