// A failed login must take as long for an unknown name as for a real one, or the answer time tells
// an attacker which accounts exist. With the production-like bcrypt cost 10 one comparison takes
// tens of milliseconds; without the dummy-hash comparison in AccountService.verify the unknown case
// answers in about one millisecond, so the ratio of the medians would be far below the bound.
import { afterAll, beforeAll, expect, it } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { tokenFor } from '../helpers/http.js';

const TRIES = 20;
let t: TestApp;

beforeAll(async () => {
  // No Docker needed: only failed logins, which never touch a container.
  t = buildTestApp({ env: { BCRYPT_COST: '10' } });
  await t.services.accounts.signUp({ username: 'timed', email: 'timed@example.com', password: 'the-real-password' });
});

afterAll(() => t?.close());

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

it('when logins fail for an existing and for an unknown name, then their median times are alike', async () => {
  const agent = request.agent(t.app);
  const token = await tokenFor(agent, '/login');
  const attempt = async (username: string) => {
    const started = process.hrtime.bigint();
    const response = await agent.post('/login').type('form').send({ _csrf: token, username, password: 'a-wrong-password' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(response.status).toBe(401);
    expect(response.text).toContain('That username or password is not right.');
    return ms;
  };
  // Warm up both paths (the dummy hash is made on first use).
  await attempt('timed');
  await attempt('no-such-person');

  const existing: number[] = [];
  const unknown: number[] = [];
  // Interleaved, so both series see the same load from other test files.
  for (let i = 0; i < TRIES; i += 1) {
    existing.push(await attempt(i % 2 ? 'timed' : 'timed@example.com'));
    unknown.push(await attempt(i % 2 ? `ghost-${i}` : `ghost-${i}@example.com`));
  }
  const ratio = median(unknown) / median(existing);
  const summary = `existing ${median(existing).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`;
  // A bcrypt comparison is well above the HTTP overhead at this cost, or the test would prove nothing.
  expect(median(existing), summary).toBeGreaterThan(15);
  expect(ratio, summary).toBeGreaterThan(0.6);
  expect(ratio, summary).toBeLessThan(1.6);
});
