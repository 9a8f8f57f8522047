// Hostile input through the real forms (fast-check, over HTTP): a refused username or e-mail
// address gets a 422 page naming the field, never a 500, never a database row, and the value is
// echoed back escaped; bodies past the 16 kB limit get the 413 page. The login form answers 401.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request, { type Agent } from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { tokenFor } from '../helpers/http.js';
import { hostileText, nearlyValidEmail, nearlyValidName } from '../helpers/hostile.js';
import { emailProblem, signupForm, usernameProblem } from '../../src/auth/validation.js';
import { reservedNames } from '../../src/addressing.js';

const BODY_LIMIT = 16 * 1024;
let t: TestApp;
let agent: Agent;
let token: string;

beforeAll(async () => {
  // Only refused input is sent, so no container is ever asked for.
  t = buildTestApp();
  agent = request.agent(t.app);
  token = await tokenFor(agent, '/signup');
});

afterAll(() => t?.close());

function encodedLength(fields: Record<string, string>): number {
  return new URLSearchParams(fields).toString().length;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

/** What the server receives: a form encoder turns lone surrogates into U+FFFD. */
function asSent(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** How many tags a page has: the same for every refused value when the value is escaped. */
function tags(html: string): number {
  return html.split('<').length - 1;
}

const rules = () => ({ reserved: reservedNames(t.config) });
const tableCounts = async () => (await t.query<{ users: number }>('SELECT (SELECT count(*) FROM users) AS users'))[0];

describe('signup form', () => {
  it('when a hostile username is sent, then the form answers 422 with the username message, and nothing is stored', async () => {
    const before = await tableCounts();
    const baseline = tags(
      (
        await agent
          .post('/signup')
          .type('form')
          .send({ _csrf: token, username: 'A', email: 'fuzz@example.com', password: 'correct horse battery' })
      ).text,
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileText, nearlyValidName), async (typed) => {
        const { username } = signupForm.parse({ username: asSent(typed) });
        const problem = usernameProblem(username, rules());
        fc.pre(problem !== null);
        const fields = { _csrf: token, username: typed, email: 'fuzz@example.com', password: 'correct horse battery' };
        const response = await agent.post('/signup').type('form').send(fields);
        if (encodedLength(fields) > BODY_LIMIT) {
          expect(response.status).toBe(413);
          expect(response.text).toContain('What you sent is too large.');
          return;
        }
        expect(response.status, response.text.slice(0, 300)).toBe(422);
        expect(response.text).toContain(escapeHtml(problem!));
        expect(response.text).toContain('id="username-help"');
        // What was typed comes back only escaped: no markup of the visitor's making.
        expect(response.text).toContain(`value="${escapeHtml(username)}"`);
        expect(tags(response.text)).toBe(baseline);
      }),
      { numRuns: 120 },
    );
    expect(await tableCounts()).toEqual(before);
  });

  it('when a hostile e-mail address is sent, then the form answers 422 with the e-mail message, and nothing is stored', async () => {
    const before = await tableCounts();
    const baseline = tags(
      (
        await agent
          .post('/signup')
          .type('form')
          .send({ _csrf: token, username: 'fuzz-person', email: 'x', password: 'correct horse battery' })
      ).text,
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileText, nearlyValidEmail), async (typed) => {
        const { email } = signupForm.parse({ email: asSent(typed) });
        const problem = emailProblem(email);
        fc.pre(problem !== null);
        const fields = { _csrf: token, username: 'fuzz-person', email: typed, password: 'correct horse battery' };
        const response = await agent.post('/signup').type('form').send(fields);
        if (encodedLength(fields) > BODY_LIMIT) {
          expect(response.status).toBe(413);
          return;
        }
        expect(response.status, response.text.slice(0, 300)).toBe(422);
        expect(response.text).toContain(escapeHtml(problem!));
        expect(response.text).toContain('id="email-help"');
        expect(response.text).toContain(`value="${escapeHtml(email)}"`);
        expect(tags(response.text)).toBe(baseline);
      }),
      { numRuns: 80 },
    );
    expect(await tableCounts()).toEqual(before);
    expect(await t.services.users.findByUsername('fuzz-person')).toBeUndefined();
  });

  it('when a field is repeated or missing, then the form says which and stores nothing', async () => {
    const response = await agent
      .post('/signup')
      .type('form')
      .send('_csrf=' + encodeURIComponent(token) + '&username=alice&username=bob&password=x');
    expect(response.status).toBe(422);
    expect(response.text).toContain('Choose a username.');
    expect(response.text).toContain('Enter your e-mail address.');
    expect(await t.services.users.count()).toBe(0);
  });
});

describe('login form', () => {
  it('when hostile names and passwords are sent, then the answer is the generic 401 (or 413), never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileText, nearlyValidName, nearlyValidEmail), hostileText, async (username, password) => {
        const fields = { _csrf: token, username, password };
        const response = await agent.post('/login').type('form').send(fields);
        if (encodedLength(fields) > BODY_LIMIT) {
          expect(response.status).toBe(413);
        } else {
          expect(response.status, response.text.slice(0, 300)).toBe(401);
          expect(response.text).toContain('That username or password is not right.');
        }
      }),
      { numRuns: 80 },
    );
  });
});
