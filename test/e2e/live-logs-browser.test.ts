// The dashboard's live log in a real browser (Debian's Chromium via playwright-core), against a
// Spawner on loopback and the real engine: a line the container prints appears within a second,
// and a line with <script> shows as text (it runs nothing, and the page has no CSP complaint).
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildTestApp, containerOf, type TestApp } from '../helpers/app.js';
import { createTestNetwork } from '../helpers/docker.js';
import { execIn } from '../helpers/exec.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';

const runId = inject('runId');
let t: TestApp;
let server: Server;
let origin: string;
let browser: TestBrowser;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-livebrowser`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network } });
  server = t.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser([]);
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  server?.close();
  await t?.close();
});

it('when the container prints a line, then the dashboard shows it within a second, <script> as text', async () => {
  const page = await browser.newPage();
  await page.goto(`${origin}/signup`);
  await page.fill('input[name=username]', 'browser-logs');
  await page.fill('input[name=email]', 'browser-logs@example.com');
  await page.fill('input[name=password]', 'correct horse battery');
  await Promise.all([page.waitForURL(/\/dashboard$/), page.click('button[type=submit]')]);
  // Locators, not page-side predicates: a string predicate is evaluated in the page, which the
  // dashboard's CSP (no 'unsafe-eval') refuses.
  await page.locator('#log-state', { hasText: /^Live/ }).waitFor();
  const { name } = await containerOf(t, 'browser-logs');
  const print = (text: string) => execIn(name, ['sh', '-c', 'printf "%s\\n" "$0" > /proc/1/fd/1', text]);

  await print('hello browser');
  const printed = Date.now();
  await page.locator('#log-lines', { hasText: 'hello browser' }).waitFor({ timeout: 1000 });
  expect(Date.now() - printed).toBeLessThan(1000);

  await print('<script>window.__pwned = 1</script><b>bold</b>');
  await page.locator('#log-lines', { hasText: '<script>window.__pwned' }).waitFor();
  expect(await page.locator('#log-lines > div').last().textContent()).toBe('<script>window.__pwned = 1</script><b>bold</b>');
  expect(await page.locator('#log-lines script, #log-lines b').count()).toBe(0);
  expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
  await browser.screenshot(page, 'live-logs-01-dashboard');
  // Script errors and CSP refusals would show here; the favicon's 404 and Chromium's COOP note are expected.
  const expected = [/Cross-Origin-Opener-Policy/, /status of 404/];
  expect(browser.problems.filter((p) => !expected.some((re) => re.test(p))).join('\n')).toBe('');
});
