// Idle shutdown and wake-on-request through the real Traefik: activity comes from Traefik's own
// metrics, open connections keep a service alive, and a request to a sleeping person's address
// goes through the fallback route to Spawner, which wakes the container and lands the person on
// the service only once Traefik routes to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { request as httpRequest } from 'node:http';
import { containerOf } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { expectRedirect, signUp } from '../helpers/http.js';
import { eventually, startTraefik, viaTraefik, type Traefik } from '../helpers/traefik.js';
import { routerEnabled, routerGone } from '../helpers/traefikChecks.js';
import { freePort } from '../helpers/ports.js';
import { spawnerRoutes, startSpawner, type RunningSpawner } from '../helpers/spawnerServer.js';

const runId = inject('runId');
const docker = dockerClient();
const BROWSER = { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36', Accept: 'text/html,application/xhtml+xml' };
const SUB = 'apps.test';
const PATH = 'path.test';
const PAUSE = 'pause.test';

let traefik: Traefik;
let sub: RunningSpawner;
let path: RunningSpawner;
let pausing: RunningSpawner;

const isRunning = async (name: string) => (await docker.getContainer(name).inspect()).State.Running;
/**
 * Lets real time pass: only where time passing is what a test is about (idleness, the pace of a
 * client, "nothing happens meanwhile"), never to wait for something to happen (wait on the event).
 */
const elapse = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** What an uptime checker sends: Spawner answers it without waking anything (WAKE_IGNORE_USER_AGENTS). */
const CHECKER = { 'User-Agent': 'UptimeRobot/2.0' };

/**
 * Stops a person's container and resolves once Traefik sends their address to Spawner's
 * fallback, waiting on each event in turn. First Traefik's route to the running container:
 * Traefik applies Docker's start event up to 2 s late (providersThrottleDuration), and a start
 * applied after the stop routes to the stopped container, a 502 after the address seemed to have
 * gone to the fallback already. Then the stop and Docker's word that it is not running, the router
 * gone from Traefik's API, and Spawner answering for the address (to a checker: nothing is woken).
 */
async function stopBehindTraefik(spawner: RunningSpawner, username: string, host: string, path = '/'): Promise<void> {
  const { user, name } = await containerOf(spawner, username);
  await routerEnabled(traefik, `${name}@docker`);
  await spawner.services.containers.stop(user);
  expect(await isRunning(name)).toBe(false);
  await routerGone(traefik, `${name}@docker`);
  await eventually(
    async () => {
      const answer = await viaTraefik(traefik, host, path, { headers: CHECKER, timeoutMs: 3000 });
      return answer.status === 503 && answer.headers['x-request-id'] !== undefined;
    },
    10_000,
    `Spawner's fallback to answer for ${host}${path}`,
  );
}

/** Reads a server-sent-events stream through Traefik until an event named `name` arrives. */
function waitForEvent(host: string, eventsPath: string, name: string, ms = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: traefik.webPort,
        path: eventsPath,
        headers: { ...BROWSER, host, accept: 'text/event-stream' },
        timeout: ms,
      },
      (res) => {
        if (!String(res.headers['content-type']).includes('text/event-stream'))
          reject(new Error(`not an event stream: ${res.statusCode} ${res.headers['content-type']}`));
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes(`event: ${name}`)) {
            req.destroy();
            resolve(text);
          }
        });
        res.on('end', () => resolve(text));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no event in time')));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-lifecycle`);
  const [subPort, pathPort, pausePort] = [await freePort(), await freePort(), await freePort()];
  const sr = spawnerRoutes('spawner-sub', SUB, subPort);
  const pr = spawnerRoutes('spawner-path', PATH, pathPort);
  const ar = spawnerRoutes('spawner-pause', PAUSE, pausePort);
  traefik = await startTraefik({
    runId,
    network,
    dynamic: {
      http: {
        routers: { ...sr.routers, ...pr.routers, ...ar.routers },
        services: { ...sr.services, ...pr.services, ...ar.services },
        middlewares: { ...sr.middlewares, ...pr.middlewares, ...ar.middlewares },
      },
    },
  });
  // Traefik answers its ping before the file provider's routers are loaded.
  await eventually(async () => (await traefik.get('/api/http/routers/spawner-path-wake@file')) !== undefined, 10_000, 'file routes');
  // Public services: this file is about idle shutdown and waking, not who may wake (access.test.ts).
  const common = {
    TRAEFIK_NETWORK: network,
    TRAEFIK_API_URL: traefik.api,
    CONTAINER_IDLE_TIMEOUT: '3s',
    IDLE_SWEEP_INTERVAL: '1h',
    SERVICE_ACCESS: 'public',
  };
  sub = await startSpawner({
    runId,
    port: subPort,
    env: { ...common, BASE_DOMAIN: SUB, TRAEFIK_AUTH_MIDDLEWARE: 'spawner-sub-auth@file' },
  });
  // The path-mode Spawner shows the starting page at once (WAKE_HOLD=0), the other holds fast wakes.
  path = await startSpawner({
    runId,
    port: pathPort,
    env: { ...common, BASE_DOMAIN: PATH, ROUTING_MODE: 'path', WAKE_HOLD: '0ms', TRAEFIK_AUTH_MIDDLEWARE: 'spawner-path-auth@file' },
  });
  pausing = await startSpawner({
    runId,
    port: pausePort,
    env: {
      ...common,
      BASE_DOMAIN: PAUSE,
      CONTAINER_PAUSE_AFTER: '2s',
      CONTAINER_IDLE_TIMEOUT: '8s',
      TRAEFIK_AUTH_MIDDLEWARE: 'spawner-pause-auth@file',
    },
  });
});

afterAll(async () => {
  await sub?.stop();
  await path?.stop();
  await pausing?.stop();
  await traefik?.stop();
});

describe('idle shutdown', () => {
  it('when nobody uses a service for longer than the idle timeout, then the sweep stops it', async () => {
    expectRedirect(await signUp(request.agent(sub.app), { username: 'idler' }), '/dashboard');
    const { name } = await containerOf(sub, 'idler');
    await elapse(3200); // nobody uses it for longer than CONTAINER_IDLE_TIMEOUT (3 s)
    await sub.services.sweeper.sweep(); // first look at its connections and bytes
    const report = await sub.services.sweeper.sweep(); // the second compares with the first
    expect(report.stopped).toContain(name);
    expect(await isRunning(name)).toBe(false);
    expect((await sub.services.users.findByUsername('idler'))?.lastActivity).toBeInstanceOf(Date);
  });

  it('when a service gets steady requests through Traefik, then it is not stopped', async () => {
    expectRedirect(await signUp(request.agent(sub.app), { username: 'steady' }), '/dashboard');
    const { name } = await containerOf(sub, 'steady');
    await eventually(async () => (await viaTraefik(traefik, `steady.${SUB}`, '/')).status === 200, 10_000, 'route to steady');
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      expect((await viaTraefik(traefik, `steady.${SUB}`, '/')).status).toBe(200);
      await sub.services.sweeper.sweep();
      await elapse(400); // a steady client's pace: 6 s of requests, longer than the 3 s idle timeout
    }
    expect(await isRunning(name)).toBe(true);
  });

  it('when a single long download stays open with no new requests, then the service is not stopped', async () => {
    expectRedirect(await signUp(request.agent(sub.app), { username: 'streamer' }), '/dashboard');
    const { name } = await containerOf(sub, 'streamer');
    await eventually(async () => (await viaTraefik(traefik, `streamer.${SUB}`, '/')).status === 200, 10_000, 'route to streamer');
    const download = viaTraefik(traefik, `streamer.${SUB}`, '/cgi-bin/stream?12');
    const until = Date.now() + 7000;
    while (Date.now() < until) {
      const report = await sub.services.sweeper.sweep();
      expect(report.stopped).not.toContain(name);
      await elapse(500); // sweeps spread over the 7 s download, longer than the 3 s idle timeout
    }
    expect(await isRunning(name)).toBe(true);
    expect((await download).text).toContain('tick 11');
  });

  it('when the dashboard is open, then it tells when the container will sleep and "keep it running" resets it', async () => {
    const agent = request.agent(sub.app);
    expectRedirect(await signUp(agent, { username: 'keeper' }), '/dashboard');
    const page = await agent.get('/dashboard');
    expect(page.text).toContain('Sleeps at');
    expect(page.text).toContain('Keep it running');
  });
});

describe('wake-on-request, subdomain mode', () => {
  it('when a browser asks for a stopped service that starts fast, then its first request already gets the service, and Traefik takes over', async () => {
    expectRedirect(await signUp(request.agent(sub.app), { username: 'sleeper' }), '/dashboard');
    const { name } = await containerOf(sub, 'sleeper');
    await stopBehindTraefik(sub, 'sleeper', `sleeper.${SUB}`);

    const started = Date.now();
    const first = await viaTraefik(traefik, `sleeper.${SUB}`, '/?tab=2', { headers: BROWSER });
    expect(first.status).toBe(200);
    expect(first.text).toContain('Hello sleeper');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await isRunning(name)).toBe(true);
    // Every request after it reaches the service too: first through Spawner, then through Traefik's own route.
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      const next = await viaTraefik(traefik, `sleeper.${SUB}`, '/', { headers: BROWSER });
      expect(next.status).toBe(200);
      await elapse(250); // a browser's pace through the hand-over from Spawner's forwarding to Traefik
    }
    await routerEnabled(traefik, `${name}@docker`);
  });

  it('when a program asks a stopped service, then the request is held and goes through with its method and body', async () => {
    expectRedirect(await signUp(request.agent(sub.app), { username: 'apiuser' }), '/dashboard');
    await stopBehindTraefik(sub, 'apiuser', `apiuser.${SUB}`);
    const held = await viaTraefik(traefik, `apiuser.${SUB}`, '/cgi-bin/stream?2', {
      method: 'POST',
      headers: { 'User-Agent': 'my-script/1.0', Accept: 'application/json', 'Content-Type': 'text/plain' },
      body: 'hello',
    });
    expect(held.status).toBe(200);
    expect(held.text).toContain('tick 1');
    const after = await viaTraefik(traefik, `apiuser.${SUB}`, '/', { headers: { 'User-Agent': 'my-script/1.0' } });
    expect(after.status).toBe(200);
  });

  it('when a bot or uptime checker asks a stopped service, then nothing is woken', async () => {
    expectRedirect(await signUp(request.agent(sub.app), { username: 'botbait' }), '/dashboard');
    const { name } = await containerOf(sub, 'botbait');
    await stopBehindTraefik(sub, 'botbait', `botbait.${SUB}`);
    for (const agent of [
      'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      'UptimeRobot/2.0',
      'Pingdom.com_bot_version_1.4',
    ]) {
      const response = await viaTraefik(traefik, `botbait.${SUB}`, '/', { headers: { 'User-Agent': agent, Accept: 'text/html' } });
      expect(response.status).toBe(503);
      expect(response.text).toContain('asleep');
    }
    // Nothing happens meanwhile: a wake, had one begun, would have started the container by now
    // (Spawner answers a bot at once, and a start takes well under this here).
    await elapse(500);
    expect(await isRunning(name)).toBe(false);
  });

  it('when the name belongs to nobody, then a stranger is sent to log in, as for any service not public (no name probing)', async () => {
    const response = await viaTraefik(traefik, `nobody-here.${SUB}`, '/', { headers: BROWSER });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`http://spawner.${SUB}/authorize?next=${encodeURIComponent(`http://nobody-here.${SUB}/`)}`);
  });
});

describe('wake-on-request, path mode', () => {
  it('when a browser asks for /<name>/… of a stopped service, then it is woken and the next request reaches it under the prefix', async () => {
    expectRedirect(await signUp(request.agent(path.app), { username: 'pathy' }, '/hub'), '/hub/dashboard');
    const { name } = await containerOf(path, 'pathy');
    await stopBehindTraefik(path, 'pathy', PATH, '/pathy/');
    const page = await viaTraefik(traefik, PATH, '/pathy/some/page', { headers: BROWSER });
    expect(page.status).toBe(503);
    expect(page.text).toContain('Starting pathy');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'nonce-/);
    const events = await waitForEvent(PATH, '/pathy/.spawner/wake-events', 'ready');
    expect(events).toContain('event: ready');
    expect(await isRunning(name)).toBe(true);
    const landed = await viaTraefik(traefik, PATH, '/pathy/', { headers: BROWSER });
    expect(landed.status).toBe(200);
    expect(landed.text).toContain('Hello pathy');
    // Spawner's own pages stay Spawner's.
    expect((await viaTraefik(traefik, PATH, '/hub/login', { headers: BROWSER })).text).toContain('Log in');
  });
});

describe('pause stage', () => {
  it('when a service is unused for CONTAINER_PAUSE_AFTER, then it is paused, Traefik drops its route, and a request wakes it at once', async () => {
    expectRedirect(await signUp(request.agent(pausing.app), { username: 'napper' }), '/dashboard');
    const { name } = await containerOf(pausing, 'napper');
    await eventually(async () => (await viaTraefik(traefik, `napper.${PAUSE}`, '/')).status === 200, 10_000, 'route to napper');
    await elapse(2300); // nobody uses it for longer than CONTAINER_PAUSE_AFTER (2 s)
    await pausing.services.sweeper.sweep(); // first look at its connections and bytes
    const report = await pausing.services.sweeper.sweep(); // the second compares with the first
    expect(report.paused).toContain(name);
    expect((await docker.getContainer(name).inspect()).State.Paused).toBe(true);
    // The nudge made Traefik re-read Docker: the paused service's router is gone.
    await routerGone(traefik, `${name}@docker`);
    const started = Date.now();
    const woken = await viaTraefik(traefik, `napper.${PAUSE}`, '/', { headers: BROWSER });
    const ms = Date.now() - started;
    expect(woken.status).toBe(200);
    expect(woken.text).toContain('Hello napper');
    expect(ms).toBeLessThan(1000);
    expect((await docker.getContainer(name).inspect()).State.Paused).toBe(false);
    // And Traefik routes to it again by itself.
    await routerEnabled(traefik, `${name}@docker`);
  });

  it('when a paused service stays unused until the idle timeout, then it is stopped', async () => {
    expectRedirect(await signUp(request.agent(pausing.app), { username: 'deep' }), '/dashboard');
    const { user, name } = await containerOf(pausing, 'deep');
    await pausing.services.containers.pause(user);
    // As if its last use was 9 s ago (the idle timeout here is 8 s).
    pausing.services.activity.forget(user.id);
    pausing.services.activity.touch(user.id, Date.now() - 9000);
    const report = await pausing.services.sweeper.sweep();
    expect(report.stopped).toContain(name);
    const state = (await docker.getContainer(name).inspect()).State;
    expect(state.Running).toBe(false);
    expect(state.Paused).toBe(false);
  });

  it('when a bot asks for a paused service, then it stays paused', async () => {
    expectRedirect(await signUp(request.agent(pausing.app), { username: 'dozer' }), '/dashboard');
    const { user, name } = await containerOf(pausing, 'dozer');
    // Traefik's route first: a start it applied only after the pause would route to the frozen container.
    await routerEnabled(traefik, `${name}@docker`);
    await pausing.services.containers.pause(user);
    await pausing.services.nudge.nudge();
    await routerGone(traefik, `${name}@docker`);
    const response = await viaTraefik(traefik, `dozer.${PAUSE}`, '/', {
      headers: { 'User-Agent': 'UptimeRobot/2.0', Accept: 'text/html' },
    });
    expect(response.status).toBe(503);
    expect((await docker.getContainer(name).inspect()).State.Paused).toBe(true);
  });
});
