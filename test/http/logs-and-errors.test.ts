// What Spawner writes to its log and what a browser sees when something breaks: request ids,
// no secrets in the log, and never a stack trace in a page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import session from 'express-session';
import { createHmac } from 'node:crypto';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork } from '../helpers/docker.js';
import { expectRedirect, logIn, signUp } from '../helpers/http.js';
import { createApp } from '../../src/app.js';

const runId = inject('runId');
const lines: string[] = [];
let t: TestApp;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-logs`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network }, logDestination: { write: (line) => lines.push(line) } });
});

afterAll(() => t?.close());

describe('logs', () => {
  it('when people sign up and log in, then requests carry ids and no password, hash or cookie is ever logged', async () => {
    const agent = request.agent(t.app);
    const signup = await signUp(agent, { username: 'logged', password: 'pa55word-in-clear-xyz' });
    expectRedirect(signup, '/dashboard');
    expect(signup.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expectRedirect(await logIn(request.agent(t.app), { username: 'logged', password: 'pa55word-in-clear-xyz' }), '/dashboard');
    await logIn(request.agent(t.app), { username: 'logged', password: 'wrong-password-abc' });
    const log = lines.join('');
    const hash = (await t.services.users.findByUsername('logged'))!.passwordHash;
    const cookie = /spawner\.sid=([^;]+)/.exec(String(signup.headers['set-cookie']))?.[1];
    expect(log).toContain(signup.headers['x-request-id']);
    expect(log).toContain('account created');
    expect(log).not.toContain('pa55word-in-clear-xyz');
    expect(log).not.toContain('wrong-password-abc');
    expect(log).not.toContain(hash);
    expect(cookie).toBeDefined();
    expect(log).not.toContain(decodeURIComponent(cookie!));
    expect(log).not.toContain(cookie!);
    expect(log).toContain('[redacted]');
  });
});

describe('errors', () => {
  it('when something inside fails (the session store), then the person gets a 500 page without a stack trace', async () => {
    class BrokenStore extends session.Store {
      override get(_sid: string, cb: (error: unknown) => void) {
        cb(new Error('SQLITE_IOERR: disk I/O error at /secret/path'));
      }
      override set(_sid: string, _data: session.SessionData, cb?: (error: unknown) => void) {
        cb?.(new Error('SQLITE_IOERR: disk I/O error at /secret/path'));
      }
      override destroy(_sid: string, cb?: (error: unknown) => void) {
        cb?.(null);
      }
    }
    const broken = createApp({ ...t.services, sessionStore: new BrokenStore() });
    // A correctly signed cookie, so that express-session asks the (broken) store for it.
    const signed = (sid: string) =>
      `spawner.sid=${encodeURIComponent(`s:${sid}.${createHmac('sha256', t.services.sessionSecret).update(sid).digest('base64').replace(/=+$/, '')}`)}`;
    const response = await request(broken).get('/login').set('Cookie', signed('abc'));
    const page = await request(broken).get('/dashboard').set('Cookie', signed('xyz'));
    for (const r of [response, page]) {
      expect(r.status).toBe(500);
      expect(r.text).toContain('Something went wrong');
      expect(r.text).not.toMatch(/at \w+ \(|node_modules|SQLITE_IOERR|\/secret\/path/);
    }
  });

  it('when JSON is wanted, then errors are JSON too', async () => {
    const response = await request(t.app).get('/no-such-thing').set('Accept', 'application/json');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not_found', message: 'There is nothing here.' });
  });
});
