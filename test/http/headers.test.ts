// Security headers, and proof that the pages work under the Content-Security-Policy: every page
// Spawner renders (forms, dashboard, error pages), in both routing modes, is checked for inline
// script or style (which the policy would block) and for references outside 'self'; the one
// stylesheet is fetched. HSTS is sent only when TLS is configured.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import request, { type Agent, type Response } from 'supertest';
import type { TestApp } from '../helpers/app.js';
import { appsPerFile } from '../helpers/appsPerFile.js';
import { csrfFrom, expectRedirect, signUp, tokenFor } from '../helpers/http.js';

const runId = inject('runId');
const build = appsPerFile(runId, 'headers');

function csp(response: Response): Map<string, string[]> {
  const header = String(response.headers['content-security-policy'] ?? '');
  const directives = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name, values);
  }
  return directives;
}

/** Subdomain mode also lets forms end on people's hosts: the login's redirects end on a service's callback. */
function expectSecurityHeaders(response: Response, what: string, tls = false, formAction = ["'self'"]): void {
  const policy = csp(response);
  expect(policy.get('default-src'), what).toEqual(["'self'"]);
  expect(policy.get('script-src'), what).toEqual(["'self'"]);
  expect(policy.get('style-src'), what).toEqual(["'self'"]);
  expect(policy.get('object-src'), what).toEqual(["'none'"]);
  expect(policy.get('base-uri'), what).toEqual(["'self'"]);
  expect(policy.get('form-action'), what).toEqual(formAction);
  expect(policy.get('frame-ancestors'), what).toEqual(["'none'"]);
  expect(response.headers['x-frame-options'], what).toBe('DENY');
  expect(response.headers['x-content-type-options'], what).toBe('nosniff');
  expect(response.headers['referrer-policy'], what).toBe('no-referrer');
  // Browsers ignore COOP on plain-HTTP origins (and log an error), so it is sent over TLS only.
  expect(response.headers['cross-origin-opener-policy'], what).toBe(tls ? 'same-origin' : undefined);
  expect(response.headers['x-powered-by'], what).toBeUndefined();
}

/** Everything in a page that a policy of script-src/style-src 'self' would block or not cover. */
function inlineProblems(html: string): string[] {
  const problems: string[] = [];
  for (const m of html.matchAll(/<script\b[^>]*>/gi)) if (!/\bsrc=/i.test(m[0])) problems.push(`inline script: ${m[0]}`);
  for (const m of html.matchAll(/<style\b[^>]*>/gi)) problems.push(`inline style element: ${m[0]}`);
  for (const m of html.matchAll(/<[^>]+\sstyle\s*=/gi)) problems.push(`style attribute: ${m[0]}`);
  for (const m of html.matchAll(/<[^>]+\son[a-z]+\s*=/gi)) problems.push(`event handler attribute: ${m[0]}`);
  for (const m of html.matchAll(/javascript:/gi)) problems.push(`javascript: URL at ${m.index}`);
  return problems;
}

/** Addresses the page loads itself (scripts, styles, images) and sends forms to: all must be 'self'. */
function subresources(html: string): { loads: string[]; forms: string[] } {
  const loads = [
    ...[...html.matchAll(/<(?:script|img|iframe|source|embed)\b[^>]*\ssrc="([^"]*)"/gi)].map((m) => m[1]!),
    ...[...html.matchAll(/<link\b[^>]*\shref="([^"]*)"/gi)].map((m) => m[1]!),
  ];
  const forms = [...html.matchAll(/<form\b[^>]*\saction="([^"]*)"/gi)].map((m) => m[1]!);
  return { loads, forms };
}

const sameOrigin = (url: string) => url.startsWith('/') && !url.startsWith('//');

async function collectPages(app: TestApp['app'], base: string): Promise<[string, Response][]> {
  const anonymous = request.agent(app);
  const pages: [string, Response][] = [];
  pages.push(['login', await anonymous.get(`${base}/login`)]);
  pages.push(['logged out', await anonymous.get(`${base}/login?logged_out=1`)]);
  pages.push(['signup', await anonymous.get(`${base}/signup`)]);
  pages.push(['404', await anonymous.get(`${base}/no-such-page`)]);
  pages.push(['405', await anonymous.get(`${base}/logout`)]);
  pages.push(['403', await anonymous.post(`${base}/login`).type('form').send({ username: 'x' })]);
  const token = await tokenFor(anonymous, `${base}/signup`);
  pages.push([
    '422',
    await anonymous.post(`${base}/signup`).type('form').send({ _csrf: token, username: '<b>', email: 'x', password: 'y' }),
  ]);
  pages.push([
    '401',
    await anonymous.post(`${base}/login`).type('form').send({ _csrf: token, username: 'nobody', password: 'nothing-at-all' }),
  ]);
  pages.push([
    '413',
    await anonymous
      .post(`${base}/login`)
      .type('form')
      .send({ _csrf: token, username: 'x'.repeat(20_000) }),
  ]);
  const person: Agent = request.agent(app);
  expectRedirect(await signUp(person, { username: `hdr${base ? 'p' : 's'}` }, base), `${base}/dashboard`);
  pages.push(['dashboard', await person.get(`${base}/dashboard`)]);
  return pages;
}

describe.each([
  ['subdomain mode', {}, ''],
  ['path mode', { ROUTING_MODE: 'path' }, '/hub'],
])('%s over plain HTTP', (_mode, env, base) => {
  let t: TestApp;
  beforeAll(() => {
    t = build(env);
  });

  it('when any page is rendered, then it carries the headers and has nothing the policy would block', async () => {
    const pages = await collectPages(t.app, base);
    expect(pages.map(([, r]) => r.status)).toEqual([200, 200, 200, 404, 405, 403, 422, 401, 413, 200]);
    for (const [what, response] of pages) {
      expect(response.headers['content-type'], what).toMatch(/^text\/html/);
      expectSecurityHeaders(response, what, false, base ? ["'self'"] : ["'self'", `*.${t.config.baseDomain}:*`]);
      // Pages carry CSRF tokens and personal state: the back button must not show them after logout.
      expect(response.headers['cache-control'], what).toBe('no-store');
      expect(inlineProblems(response.text), what).toEqual([]);
      const { loads, forms } = subresources(response.text);
      expect(loads, what).toContain(`${base}/static/style.css`);
      for (const url of [...loads, ...forms]) expect(sameOrigin(url), `${what}: ${url}`).toBe(true);
      for (const action of forms) expect(action.startsWith(`${base}/`), `${what}: ${action}`).toBe(true);
      // Plain HTTP: neither HSTS nor an upgrade of every request to https (forms would break).
      expect(response.headers['strict-transport-security'], what).toBeUndefined();
      expect(csp(response).has('upgrade-insecure-requests'), what).toBe(false);
    }
  });

  it('when the stylesheet the pages name is fetched, then it is served as CSS from here and loads nothing else', async () => {
    const response = await request(t.app).get(`${base}/static/style.css`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/css/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.text).not.toMatch(/@import|url\(/);
  });

  it('when /health or a redirect answers, then they carry the headers too', async () => {
    const health = await request(t.app).get('/health');
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['content-security-policy']).toContain("default-src 'self'");
    const root = await request(t.app).get('/');
    expect(root.status).toBe(303);
    expect(root.headers['x-frame-options']).toBe('DENY');
  });
});

describe('with TLS configured (TRAEFIK_CERTRESOLVER set)', () => {
  it('when a page is rendered, then HSTS is sent and the policy upgrades insecure requests', async () => {
    const t = build({ TRAEFIK_CERTRESOLVER: 'letsencrypt' });
    const response = await request(t.app).get('/login');
    expect(response.status).toBe(200);
    expect(response.headers['strict-transport-security']).toMatch(/^max-age=\d{7,}/);
    expect(csp(response).has('upgrade-insecure-requests')).toBe(true);
    expectSecurityHeaders(response, 'login over TLS', true, ["'self'", `*.${t.config.baseDomain}:*`]);
    expect(csrfFrom(response.text)).toBeTruthy();
  });
});
