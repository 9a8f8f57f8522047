// Every refusal goes through the one error handler with a stable code: programs get
// {"error": "<code>", "message": "<text>"}, browsers a page with the same message, and plain-text
// clients one line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;

beforeAll(() => {
  t = buildTestApp({ env: { RATE_LIMIT_LOGIN_PER_MINUTE: '2' } });
});

afterAll(async () => t?.close());

const json = (path: string, method: 'get' | 'post' | 'put' = 'get') => request(t.app)[method](path).set('Accept', 'application/json');

describe('error codes', () => {
  it('when the address is unknown, then not_found', async () => {
    const response = await json('/no/such/page');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not_found', message: 'There is nothing here.' });
  });

  it('when the method is wrong, then method_not_allowed with the Allow header', async () => {
    const response = await json('/dashboard', 'put');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET');
    expect(response.body.error).toBe('method_not_allowed');
  });

  it('when a form comes without its CSRF token, then csrf_failed', async () => {
    const response = await json('/logout', 'post');
    expect(response.status).toBe(403);
    expect(response.body.error).toBe('csrf_failed');
  });

  it('when a form needs a session and has none, then login_required', async () => {
    const response = await json('/container/restart', 'post');
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'login_required', message: 'Your session has ended. Please log in again.' });
  });

  it('when a client asks for text, then one plain line with the same message', async () => {
    const response = await request(t.app).get('/no/such/page').set('Accept', 'text/plain');
    expect(response.status).toBe(404);
    expect(response.type).toBe('text/plain');
    expect(response.text).toBe('There is nothing here.\n');
  });

  it('when a browser asks, then a page shows the message, never a stack trace', async () => {
    const response = await request(t.app).put('/dashboard').set('Accept', 'text/html');
    expect(response.status).toBe(405);
    expect(response.text).toContain('This address does not accept that kind of request.');
    expect(response.text).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});
