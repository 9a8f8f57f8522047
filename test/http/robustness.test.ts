// Hostile or broken requests get a readable 4xx answer and never a 500: oversized bodies (413),
// too many fields, unknown addresses (404), wrong methods (405), malformed or forged session
// cookies (ignored: an anonymous visitor, no session), broken percent-encoding, oversized headers.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request, { type Response } from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { tokenFor } from '../helpers/http.js';

let t: TestApp;

beforeAll(() => {
  // No Docker needed: nothing here gets as far as a container.
  t = buildTestApp();
});

afterAll(() => t?.close());

function expectPage(response: Response, status: number, text: string | RegExp): void {
  expect(response.status, response.text.slice(0, 300)).toBe(status);
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  expect(response.text).toMatch(text);
  // Never a stack trace or a file path.
  expect(response.text).not.toMatch(/\bat [\w.<>]+ \(|node_modules|\/src\//);
}

function userCount(): Promise<number> {
  return t.services.users.count();
}

describe('oversized and overfull bodies', () => {
  it.each(['/login', '/signup', '/logout', '/container/restart', '/container/start'])(
    'when a form bigger than 16 kB is posted to %s, then 413 with a readable page',
    async (path) => {
      const agent = request.agent(t.app);
      const token = await tokenFor(agent, '/login');
      const response = await agent
        .post(path)
        .type('form')
        .send({ _csrf: token, username: 'x'.repeat(20_000), password: 'y' });
      expectPage(response, 413, 'What you sent is too large.');
    },
  );

  it('when a form has more than 20 fields, then it is refused with a 4xx page and no account exists', async () => {
    const agent = request.agent(t.app);
    const token = await tokenFor(agent, '/signup');
    const fields = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, 'x']));
    const before = await userCount();
    const response = await agent
      .post('/signup')
      .type('form')
      .send({ _csrf: token, username: 'many-fields', email: 'many@example.com', password: 'correct horse battery', ...fields });
    expect(response.status).toBe(413);
    expectPage(response, 413, /too large|could not be understood/);
    expect(await userCount()).toBe(before);
  });

  it('when a body comes as JSON or plain text, then it is not read as a form and the POST is refused (403)', async () => {
    const agent = request.agent(t.app);
    const token = await tokenFor(agent, '/signup');
    const payload = { _csrf: token, username: 'json-person', email: 'json@example.com', password: 'correct horse battery' };
    expectPage(await agent.post('/signup').type('json').send(payload), 403, 'did not come from this site');
    expectPage(await agent.post('/signup').type('text').send(JSON.stringify(payload)), 403, 'did not come from this site');
    expectPage(
      await agent
        .post('/signup')
        .type('json')
        .send({ ...payload, pad: 'x'.repeat(200_000) }),
      403,
      'did not come from this site',
    );
    expect(await t.services.users.findByUsername('json-person')).toBeUndefined();
  });
});

describe('addresses and methods', () => {
  it.each(['/no-such-page', '/wp-admin', '/.env', '/static/../package.json', '/login/extra', '/%2e%2e/etc/passwd'])(
    'when %s is asked for, then 404 with a page',
    async (path) => {
      expectPage(await request(t.app).get(path), 404, 'Page not found');
    },
  );

  it('when an unknown address is asked for by a program wanting JSON, then 404 comes as JSON', async () => {
    const response = await request(t.app).get('/no-such-page').set('Accept', 'application/json');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not_found', message: 'There is nothing here.' });
  });

  it.each([
    ['put', '/login', 'GET, POST'],
    ['delete', '/signup', 'GET, POST'],
    ['patch', '/login', 'GET, POST'],
    ['get', '/logout', 'POST'],
    ['get', '/container/restart', 'POST'],
    ['get', '/container/start', 'POST'],
    ['post', '/dashboard', 'GET'],
  ] as const)('when %s %s is sent, then 405 with Allow: %s', async (method, path, allow) => {
    const response = await request(t.app)[method](path);
    expectPage(response, 405, 'Method not allowed');
    expect(response.headers.allow).toBe(allow);
  });

  it('when the path or query is badly encoded or repeated, then the answer is a 4xx or the page, never 5xx', async () => {
    for (const path of [
      '/%',
      '/login%',
      '/%E0%A4%A',
      '/login%00',
      '/login?logged_out[]=1&logged_out=2',
      '/login?%zz=1',
      '/dashboard?x=%',
    ]) {
      const response = await request(t.app).get(path);
      expect(response.status, path).toBeLessThan(500);
    }
    expect((await request(t.app).get('/login?logged_out[]=1&logged_out=2')).status).toBe(200);
  });
});

describe('malformed and forged session cookies', () => {
  const cases: [string, string][] = [
    ['not percent-decodable', 'spawner.sid=%%%'],
    ['forged signature', 'spawner.sid=s:abc.def'],
    ['forged, encoded', 'spawner.sid=s%3Aabc.def'],
    ['unsigned id', 'spawner.sid=abcdefghijklmnopqrstuvwxyz012345'],
    ['signed with another secret', 'spawner.sid=s%3AKgKOnLwIabcdefghijklmnopqrstuvw.Tm90IHRoZSByaWdodCBzaWduYXR1cmUgYXQgYWxs'],
    ['empty', 'spawner.sid='],
    ['twice', 'spawner.sid=s:abc.def; spawner.sid=%%%'],
    ['very long', `spawner.sid=s:${'a'.repeat(8000)}.sig`],
    ['many cookies', Array.from({ length: 200 }, (_, i) => `c${i}=v`).join('; ')],
    ['non-ASCII bytes', 'spawner.sid=\u00ff\u00fe\u00e4'],
  ];

  it.each(cases)('when the cookie is %s, then it is ignored: the login page and no session', async (_what, header) => {
    const sessionsBefore = await t.query<{ sid: string }>('SELECT sid FROM sessions');
    const response = await request(t.app).get('/login').set('Cookie', header);
    expectPage(response, 200, 'Log in');
    const issued = ([] as string[]).concat(response.headers['set-cookie'] ?? []).find((c) => c.startsWith('spawner.sid='));
    expect(issued).toBeUndefined();
    // No row was made, neither for the forged id nor for the anonymous visitor.
    const after = await t.query<{ sid: string }>('SELECT sid FROM sessions');
    expect(after.length).toBe(sessionsBefore.length);
    expect((await request(t.app).get('/dashboard').set('Cookie', header)).status).toBe(303);
  });

  it('when the whole header block exceeds what Node accepts, then 431 rather than a 5xx', async () => {
    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path: '/login', headers: { Cookie: `spawner.sid=${'a'.repeat(40_000)}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.setTimeout(5000, () => req.destroy(new Error('timeout')));
        req.end();
      });
      expect(status).toBe(431);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
