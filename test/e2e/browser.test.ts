// A person in a real browser (Debian's Chromium driven by playwright-core) going through the real
// Traefik, in path mode as the seed's operator runs it: sign up, see the running container, open
// the service, come back, restart, log out; and a sleeping service (stopped, or stopped by the
// idle sweep) woken by just visiting it, in both routing modes. Every step leaves a screenshot in test-artifacts/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Page } from 'playwright-core';
import { containerOf } from '../helpers/app.js';
import { SPAWNER_ROUTERS, startBothModes, type BothModes } from '../helpers/e2eSetup.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { eventually, type Traefik } from '../helpers/traefik.js';
import { expectNoRouterErrors, serviceUp } from '../helpers/traefikChecks.js';
import type { RunningSpawner } from '../helpers/spawnerServer.js';
import { dockerClient } from '../helpers/docker.js';

const runId = inject('runId');
const docker = dockerClient();
const PATH = 'hub.example.test';
const SUB = 'apps.example.test';

let both: BothModes;
let traefik: Traefik;
let path: RunningSpawner;
let sub: RunningSpawner;
let browser: TestBrowser;
let origin: string;

/**
 * Unexpected trouble in the pages: script errors and CSP refusals. Expected and left out: the status
 * of a page that is an error page on purpose (422, 404, 503), and Chromium's note that it ignores
 * helmet's Cross-Origin-Opener-Policy on plain-HTTP origins other than localhost.
 */
const EXPECTED_CONSOLE = [
  /Failed to load resource: the server responded with a status of (403|404|422|503)/,
  /Cross-Origin-Opener-Policy header has been ignored/,
];
const pageProblems = () => browser.problems.filter((p) => !EXPECTED_CONSOLE.some((re) => re.test(p)));

beforeAll(async () => {
  both = await startBothModes(runId, 'browser', {
    domains: { sub: SUB, path: PATH },
    spawnerEnv: {
      CONTAINER_IDLE_TIMEOUT: '1h',
      IDLE_SWEEP_INTERVAL: '1h',
      // Always show the starting page when waking (the template starts faster than the default hold).
      WAKE_HOLD: '0ms',
    },
    subEnv: { CONTAINER_IDLE_TIMEOUT: '2s' },
  });
  ({ traefik, sub, path } = both);
  browser = await launchBrowser([PATH, SUB]);
  origin = `http://${PATH}:${traefik.webPort}`;
});

afterAll(async () => {
  await browser?.close();
  await both?.stop();
});

async function shot(page: Page, name: string) {
  await page.waitForLoadState('load');
  await browser.screenshot(page, name);
}

describe('a person in a real browser', () => {
  it('when someone signs up, opens the service, comes back, restarts and logs out, then every step works through Traefik', async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    expect(new URL(page.url()).pathname).toBe('/hub/login');
    await shot(page, 'browser-01-login');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('hub');
    await page.getByLabel('E-mail').fill('frida@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.locator('.field.has-error .error').first().textContent()).toContain('reserved');
    await shot(page, 'browser-02-signup-refused');

    await page.getByLabel('Username').fill('frida');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${origin}/hub/dashboard`);
    await expect.poll(() => page.locator('.badge').getAttribute('data-state')).toBe('running');
    expect(await page.locator('.flash').first().textContent()).toContain('Welcome, frida');
    const serviceLink = page.locator('a.service-link');
    expect(await serviceLink.getAttribute('href')).toBe(`${origin}/frida/`);
    await shot(page, 'browser-03-dashboard');
    await page.setViewportSize({ width: 390, height: 760 });
    await shot(page, 'browser-03b-dashboard-phone');
    await page.setViewportSize({ width: 1100, height: 760 });

    // The link opens the service in a new tab, through Traefik, on the port the browser used.
    const { name } = await containerOf(path, 'frida');
    await serviceUp(traefik, `${name}@docker`);
    const [service] = await Promise.all([page.context().waitForEvent('page'), serviceLink.click()]);
    await service.waitForLoadState('load');
    expect(service.url()).toBe(`${origin}/frida/`);
    expect(await service.locator('#spawner-user').textContent()).toBe('frida');
    // The template's stylesheet (relative link under /frida/) is applied.
    expect(await service.locator('main').evaluate('(el) => getComputedStyle(el).maxWidth')).not.toBe('none');
    await shot(service, 'browser-04-service');
    await service.getByRole('link', { name: /About this space/ }).click();
    await service.waitForURL(`${origin}/frida/about.html`);
    await shot(service, 'browser-05-service-about');
    await service.getByRole('link', { name: /Back to the start page/ }).click();
    await service.waitForURL(`${origin}/frida/`);
    await service.close();

    // Back on the dashboard: restart.
    await page.bringToFront();
    const startedBefore = (await docker.getContainer(name).inspect()).State.StartedAt;
    await page.getByRole('button', { name: 'Restart' }).click();
    await page.waitForURL(`${origin}/hub/dashboard`);
    expect(await page.locator('.flash').first().textContent()).toContain('Your container was restarted.');
    expect((await docker.getContainer(name).inspect()).State.StartedAt).not.toBe(startedBefore);
    await shot(page, 'browser-06-restarted');
    const [again] = await Promise.all([page.context().waitForEvent('page'), serviceLink.click()]);
    await again.waitForURL(`${origin}/frida/`);
    await expect.poll(() => again.locator('#spawner-user').textContent(), { timeout: 20_000 }).toBe('frida');
    await again.close();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${origin}/hub/login?logged_out=1`);
    expect(await page.locator('.flash').first().textContent()).toContain('logged out');
    await shot(page, 'browser-07-logged-out');
    await page.goto(`${origin}/hub/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/hub/login');
    await page.close();

    expect(pageProblems()).toEqual([]);
    await expectNoRouterErrors(traefik, [...SPAWNER_ROUTERS, `${name}@docker`]);
  });

  for (const mode of ['path', 'subdomain'] as const) {
    const how = mode === 'path' ? 'stopped' : 'stopped for being idle';
    it(`when someone visits a service ${how} (${mode} mode), then the starting page shows and lands on the service by itself`, async () => {
      const s = mode === 'path' ? path : sub;
      const username = `sleepy-${mode === 'path' ? 'p' : 's'}`;
      const user = await s.services.accounts.signUp({ username, email: `${username}@example.com`, password: 'correct horse battery' });
      // Public: this visitor is not logged in (the journey above shows the owner's login round trip).
      await s.services.access.setVisibility(user, 'public');
      await s.services.workspace.ensureRunning(user);
      const { name } = await containerOf(s, username);
      await serviceUp(traefik, `${name}@docker`);
      if (mode === 'path') {
        await s.services.containers.stop(user);
      } else {
        // Nobody uses it for longer than the idle timeout: the sweep (run by hand here) stops it.
        await eventually(async () => (await s.services.sweeper.sweep()).stopped.includes(name), 15_000, 'the idle sweep to stop it');
      }
      expect((await docker.getContainer(name).inspect()).State.Running).toBe(false);
      await expect
        .poll(async () => (await traefik.get<{ name: string }[]>('/api/http/routers')).some((r) => r.name === `${name}@docker`), {
          timeout: 10_000,
        })
        .toBe(false);

      const url = mode === 'path' ? `${origin}/${username}/` : `http://${username}.${SUB}:${traefik.webPort}/`;
      const page = await browser.newPage();
      const response = await page.goto(url, { waitUntil: 'domcontentloaded' });
      expect(response?.status()).toBe(503);
      expect(await page.locator('h1').textContent()).toContain(`Starting ${username}`);
      await browser.screenshot(page, `browser-08-waking-${mode}`);

      await expect
        .poll(
          () =>
            page
              .locator('#spawner-user')
              .textContent()
              .catch(() => null),
          { timeout: 30_000 },
        )
        .toBe(username);
      expect(page.url()).toBe(url);
      await shot(page, `browser-09-woken-${mode}`);
      await page.close();
      expect(pageProblems()).toEqual([]);
      await expectNoRouterErrors(traefik, [...SPAWNER_ROUTERS, `${name}@docker`]);
    });
  }

  for (const mode of ['subdomain', 'path'] as const) {
    it(`when an anonymous visitor opens an owner-only service (${mode} mode), then the login page, then the owner's own page; another person gets the refusal page`, async () => {
      const s = mode === 'path' ? path : sub;
      const [owner, other] = mode === 'path' ? ['alma-p', 'bert-p'] : ['alma-s', 'bert-s'];
      const user = await s.services.accounts.signUp({ username: owner, email: `${owner}@example.com`, password: 'correct horse battery' });
      await s.services.accounts.signUp({ username: other, email: `${other}@example.com`, password: 'correct horse battery' });
      await s.services.workspace.ensureRunning(user);
      const { name } = await containerOf(s, owner);
      await serviceUp(traefik, `${name}@docker`);
      const home = mode === 'path' ? `${origin}/hub` : `http://spawner.${SUB}:${traefik.webPort}`;
      const url =
        mode === 'path' ? `${origin}/${owner}/about.html?from=mail` : `http://${owner}.${SUB}:${traefik.webPort}/about.html?from=mail`;
      await browser.context.clearCookies();

      const page = await browser.newPage();
      await page.goto(url);
      expect(page.url()).toBe(
        `${home}/login?next=${encodeURIComponent(`${mode === 'path' ? '/hub' : ''}/authorize?next=${encodeURIComponent(url)}`)}`,
      );
      expect(await page.locator('[data-service-asked]').textContent()).toBe(`to open ${new URL(url).host}${new URL(url).pathname}`);
      await shot(page, `browser-11-access-${mode}-1-login`);
      await page.getByLabel('Username').fill(owner);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(url);
      expect(await page.locator('meta[name="spawner-user"]').getAttribute('content')).toBe(owner);
      await shot(page, `browser-11-access-${mode}-2-owner`);

      await browser.context.clearCookies();
      await page.goto(url);
      await page.getByLabel('Username').fill(other);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/authorize\?next=/);
      expect(await page.locator('[data-refused]').getAttribute('data-refused')).toBe('access_denied');
      expect(await page.locator('h1').textContent()).toContain(`${owner}’s service`);
      expect(await page.locator('[data-asked]').textContent()).toBe(url);
      expect(await page.locator('[data-refused]').textContent()).toContain(`You are logged in as ${other}.`);
      expect(await page.getByRole('link', { name: 'Go to your dashboard' }).getAttribute('href')).toBe(`${home}/dashboard`);
      await shot(page, `browser-11-access-${mode}-3-refused`);

      // Log out and log in as the owner: back on the page asked for.
      await page.getByRole('button', { name: 'Log out and log in as someone else' }).click();
      await page.waitForURL(/\/login\?logged_out=1&next=/);
      expect(await page.locator('[data-service-asked]').textContent()).toContain(new URL(url).host);
      await shot(page, `browser-11-access-${mode}-4-switch`);
      await page.getByLabel('Username').fill(owner);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(url);
      expect(await page.locator('meta[name="spawner-user"]').getAttribute('content')).toBe(owner);
      await page.close();
      await browser.context.clearCookies(); // the next visitor is a stranger again
      expect(pageProblems()).toEqual([]);
    });
  }

  it('when a stranger visits a name nobody has, then it is the login page, as for any service not public (no name probing)', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${origin}/nobody-here/`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(
      `${origin}/hub/login?next=${encodeURIComponent(`/hub/authorize?next=${encodeURIComponent(`${origin}/nobody-here/`)}`)}`,
    );
    expect(await page.locator('h1').textContent()).toContain('Log in');
    await shot(page, 'browser-10-unknown');
    await page.close();
  });
});
