// Abuse limits over real HTTP with the default login limit (5 failed logins a minute, per client
// address and per account) and a small signup limit: 429 with a readable page and the standard
// headers, counters that survive a restart of Spawner (SQLite store), and successful logins that
// never count. Client addresses come from X-Forwarded-For, believed because the test's requests
// arrive from loopback, which TRUST_PROXY trusts by default (as Traefik on the Docker network is).
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork } from '../helpers/docker.js';
import { expectRedirect, tokenFor } from '../helpers/http.js';
import { createApp } from '../../src/app.js';

const runId = inject('runId');
const LIMITS = { RATE_LIMIT_LOGIN_PER_MINUTE: '5', RATE_LIMIT_SIGNUP_PER_HOUR: '3' };
let network: string;
let t: TestApp;

beforeAll(async () => {
  network = await createTestNetwork(runId, `spawner-test-${runId}-ratelimit`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, ...LIMITS } });
  await t.services.accounts.signUp({ username: 'carol', email: 'carol@example.com', password: 'carol-password-1' });
  await t.services.accounts.signUp({ username: 'dave', email: 'dave@example.com', password: 'dave-password-1' });
});

afterAll(() => t?.close());

async function loginFrom(app: TestApp['app'], ip: string, username: string, password = 'wrong-password') {
  const agent = request.agent(app);
  const token = await tokenFor(agent, '/login');
  const response = await agent.post('/login').set('X-Forwarded-For', ip).type('form').send({ _csrf: token, username, password });
  return { response, agent };
}

function expectTooMany(response: request.Response): void {
  expect(response.status).toBe(429);
  expect(response.headers['content-type']).toMatch(/text\/html/);
  expect(response.text).toContain('Too many');
  expect(response.text).toContain('Please wait a minute');
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(response.headers['ratelimit-policy']).toMatch(/q=5; w=60/);
}

describe('login limit per client address', () => {
  it('when one address fails 5 logins (any names), then the 6th is refused with 429, even with the right password', async () => {
    const ip = '203.0.113.10';
    for (let i = 0; i < 5; i += 1) expect((await loginFrom(t.app, ip, `nobody-${i}`)).response.status).toBe(401);
    const { response, agent } = await loginFrom(t.app, ip, 'carol', 'carol-password-1');
    expectTooMany(response);
    // Refused before the password was looked at: not logged in.
    expectRedirect(await agent.get('/dashboard'), '/login');
    // Another address is not affected.
    expect((await loginFrom(t.app, '203.0.113.11', 'nobody-0')).response.status).toBe(401);
  });

  it('when 12 failed logins from one address arrive at once, then exactly 5 are looked at', async () => {
    const ip = '203.0.113.30';
    const agent = request.agent(t.app);
    const token = await tokenFor(agent, '/login');
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        agent
          .post('/login')
          .set('X-Forwarded-For', ip)
          .type('form')
          .send({ _csrf: token, username: `parallel-${i}`, password: 'wrong-password' }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array<number>(5).fill(401), ...Array<number>(7).fill(429)]);
  });

  it('when one person logs in successfully many times from one address, then none of it counts', async () => {
    const ip = '203.0.113.40';
    for (let i = 0; i < 8; i += 1) {
      expectRedirect((await loginFrom(t.app, ip, 'dave', 'dave-password-1')).response, '/dashboard');
    }
    expect((await loginFrom(t.app, ip, 'dave', 'wrong-password')).response.status).toBe(401);
  });
});

describe('login limit per account', () => {
  it('when one account fails 5 logins from 5 addresses, then a 6th address is refused too, whatever the letter case', async () => {
    for (let i = 0; i < 5; i += 1) expect((await loginFrom(t.app, `198.51.100.${i + 1}`, 'carol')).response.status).toBe(401);
    const { response, agent } = await loginFrom(t.app, '198.51.100.99', 'Carol', 'carol-password-1');
    expectTooMany(response);
    expectRedirect(await agent.get('/dashboard'), '/login');
    // Other accounts from the same address are not affected.
    expect((await loginFrom(t.app, '198.51.100.99', 'dave')).response.status).toBe(401);
  });

  it('when failures alternate between the username and the e-mail address, then they share one budget', async () => {
    await t.services.accounts.signUp({ username: 'erin', email: 'erin@example.com', password: 'erin-password-1' });
    for (let i = 0; i < 5; i += 1) {
      const login = i % 2 === 0 ? 'erin' : 'erin@example.com';
      expect((await loginFrom(t.app, `198.51.101.${i + 1}`, login)).response.status).toBe(401);
    }
    expectTooMany((await loginFrom(t.app, '198.51.101.99', 'ERIN@example.com')).response);
  });
});

describe('what counts', () => {
  it('when POSTs without a session or CSRF token pile up for an account, then they are refused and never lock it out', async () => {
    await t.services.accounts.signUp({ username: 'fred', email: 'fred@example.com', password: 'fred-password-1' });
    for (let i = 0; i < 8; i += 1) {
      const refused = await request(t.app)
        .post('/login')
        .set('X-Forwarded-For', '198.51.102.1')
        .type('form')
        .send({ username: 'fred', password: 'x' });
      expect(refused.status).toBe(403);
    }
    expectRedirect((await loginFrom(t.app, '198.51.102.1', 'fred', 'fred-password-1')).response, '/dashboard');
  });

  it('when many correct logins arrive at once, then the password work is bounded: the ones beyond get 429 at once', async () => {
    const few = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, BCRYPT_COST: '10', PASSWORD_CHECKS_AT_ONCE: '2' } });
    try {
      await few.services.accounts.signUp({ username: 'gina', email: 'gina@example.com', password: 'gina-password-1' });
      const agents = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const agent = request.agent(few.app);
          return { agent, token: await tokenFor(agent, '/login') };
        }),
      );
      const answers = await Promise.all(
        agents.map(({ agent, token }, i) =>
          agent
            .post('/login')
            .set('X-Forwarded-For', `198.51.103.${i + 1}`)
            .type('form')
            .send({ _csrf: token, username: 'gina', password: 'gina-password-1' }),
        ),
      );
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 303).length).toBeGreaterThanOrEqual(1);
      expect(statuses.filter((s) => s === 303).length).toBeLessThanOrEqual(2);
      const refused = answers.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThanOrEqual(4);
      expect(refused[0]!.headers['retry-after']).toBe('1');
      expect(refused[0]!.text).toContain('Many people are logging in right now');
    } finally {
      await few.close();
    }
  });
});

describe('signup limit per client address', () => {
  async function signupFrom(app: TestApp['app'], ip: string, username: string, email = 'not-an-email') {
    const agent = request.agent(app);
    const token = await tokenFor(agent, '/signup');
    return agent
      .post('/signup')
      .set('X-Forwarded-For', ip)
      .type('form')
      .send({ _csrf: token, username, email, password: 'correct horse battery' });
  }

  it('when one address has made 3 signup attempts this hour, then the 4th is refused with 429 and creates nothing', async () => {
    const ip = '192.0.2.50';
    const before = await t.services.users.count();
    for (let i = 0; i < 3; i += 1) expect((await signupFrom(t.app, ip, `rl-signup-${i}`)).status).toBe(422);
    const refused = await signupFrom(t.app, ip, 'rl-signup-ok', 'rl-signup-ok@example.com');
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('Too many new accounts from your address');
    expect(refused.headers['ratelimit-policy']).toMatch(/q=3; w=3600/);
    expect(await t.services.users.findByUsername('rl-signup-ok')).toBeUndefined();
    expect(await t.services.users.count()).toBe(before);
    expect((await signupFrom(t.app, '192.0.2.51', 'rl-signup-x')).status).toBe(422);
  });
});

describe('limits across a restart', () => {
  it('when Spawner is started again over the same database file, then a locked-out address stays locked out', async () => {
    const ip = '192.0.2.77';
    const first = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, ...LIMITS } });
    try {
      for (let i = 0; i < 5; i += 1) expect((await loginFrom(first.app, ip, `gone-${i}`)).response.status).toBe(401);
      expect((await loginFrom(first.app, ip, 'gone-x')).response.status).toBe(429);
    } finally {
      await first.database.close();
    }
    const second = buildTestApp({ runId, dir: first.dir, env: { TRAEFIK_NETWORK: network, ...LIMITS } });
    try {
      const [stored] = await second.query<{ hits: number }>('SELECT hits FROM rate_limits WHERE key = ?', `login-ip:${ip}`);
      expect(stored!.hits).toBeGreaterThanOrEqual(6);
      expectTooMany((await loginFrom(second.app, ip, 'gone-y')).response);
      // The counters come from the store: the same app with in-memory counters would let it in.
      const forgetful = createApp({ ...second.services, rateLimitStoreFor: undefined });
      expect((await loginFrom(forgetful, ip, 'gone-z')).response.status).toBe(401);
    } finally {
      await second.close();
      rmSync(first.dir, { recursive: true, force: true });
    }
  });
});
