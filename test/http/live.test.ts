// Live logs and spawn progress over real HTTP on the real engine: a person's container prints
// lines (written to its PID 1's stdout through exec) and the dashboard's event stream gets them.
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Readable } from 'node:stream';
import { buildTestApp, containerOf, testEnv, type TestApp } from '../helpers/app.js';
import { loadConfig } from '../../src/config.js';
import { createDockerClient, DockerodeEngine } from '../../src/containers/docker/engine.js';
import { createTestNetwork } from '../helpers/docker.js';
import { execIn } from '../helpers/exec.js';
import { FormClient } from '../helpers/formClient.js';
import supertest from 'supertest';
import { signUp } from '../helpers/http.js';

const runId = inject('runId');
let t: TestApp;
let server: Server;
let base: string;

/** The real engine, remembering each followed log stream it opened (the Docker side of a live log). */
class WatchedEngine extends DockerodeEngine {
  readonly followed: Readable[] = [];
  override async containerLogs(id: string, options: Parameters<DockerodeEngine['containerLogs']>[1]): Promise<Readable> {
    const stream = await super.containerLogs(id, options);
    if (options.follow) this.followed.push(stream);
    return stream;
  }
}
let engine: WatchedEngine;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-live`);
  engine = new WatchedEngine(createDockerClient(loadConfig(testEnv()).docker));
  t = buildTestApp({ runId, engine, env: { TRAEFIK_NETWORK: network, LOG_STREAM_LINES_PER_SECOND: '50' } });
  server = t.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await t?.close();
});

interface Sse {
  response: IncomingMessage;
  events: { event: string; id?: string; data: unknown }[];
  /** Resolves once an event matches (or rejects after the time). */
  until(test: (e: { event: string; data: unknown }) => boolean, ms?: number): Promise<void>;
  close(): void;
}

function openSse(path: string, cookie: string, headers: Record<string, string> = {}, origin = base): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}${path}`, { headers: { cookie, accept: 'text/event-stream', ...headers } }, (response) => {
      const events: Sse['events'] = [];
      const waiters: (() => void)[] = [];
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          if (fields.event)
            events.push({ event: fields.event, ...(fields.id ? { id: fields.id } : {}), data: JSON.parse(fields.data ?? 'null') });
          for (const w of waiters.splice(0)) w();
        }
      });
      resolve({
        response,
        events,
        until: (test, ms = 5000) =>
          new Promise<void>((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`no matching event in ${ms} ms: ${JSON.stringify(events).slice(-500)}`)), ms);
            const check = () => {
              if (events.some(test)) {
                clearTimeout(timer);
                done();
              } else waiters.push(check);
            };
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function person(name: string) {
  const client = new FormClient(base);
  expect((await client.signUp(name)).status).toBe(303);
  const { name: container } = await containerOf(t, name);
  const print = (text: string) => execIn(container, ['sh', '-c', `printf '%b\\n' "$0" > /proc/1/fd/1`, text]);
  return { client, container, print, cookie: client.cookieHeader() };
}

const lines = (sse: Sse) => sse.events.filter((e) => e.event === 'line').map((e) => (e.data as { text: string }).text);

describe('live logs', () => {
  it('when the container prints, then the stream gets the line as text, ANSI stripped, with Docker timestamps as ids', async () => {
    const alice = await person('live-alice');
    const sse = await openSse('/dashboard/logs?tail=10', alice.cookie);
    expect(sse.response.statusCode).toBe(200);
    expect(sse.response.headers['content-type']).toContain('text/event-stream');
    await alice.print('hello from alice');
    await sse.until((e) => e.event === 'line' && (e.data as { text: string }).text === 'hello from alice');
    await alice.print('<script>alert(1)</script>');
    await alice.print('\\033[31mred\\033[0m plain');
    await sse.until((e) => e.event === 'line' && (e.data as { text: string }).text === 'red plain');
    expect(lines(sse)).toContain('<script>alert(1)</script>');
    expect(lines(sse).join('\n')).not.toContain('\u001b');
    for (const e of sse.events.filter((x) => x.event === 'line')) expect(e.id).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    sse.close();
  });

  it('when a reconnect sends Last-Event-ID, then it resumes after that line without repeating any', async () => {
    const bob = await person('live-bob');
    const first = await openSse('/dashboard/logs?tail=0', bob.cookie);
    for (const n of [1, 2, 3]) await bob.print(`line ${n}`);
    await first.until((e) => (e.data as { text?: string }).text === 'line 3');
    const lastId = first.events.filter((e) => e.event === 'line').at(-1)!.id!;
    first.close();
    await bob.print('line 4');
    const second = await openSse('/dashboard/logs?tail=0', bob.cookie, { 'last-event-id': lastId });
    await second.until((e) => (e.data as { text?: string }).text === 'line 4');
    expect(lines(second).filter((l) => l.startsWith('line '))).toEqual(['line 4']);
    second.close();
  });

  it('when a third stream is opened for one person, then 429; another person may not watch at all', async () => {
    const carol = await person('live-carol');
    const one = await openSse('/dashboard/logs', carol.cookie);
    const two = await openSse('/dashboard/logs', carol.cookie);
    const three = await openSse('/dashboard/logs', carol.cookie);
    expect([one.response.statusCode, two.response.statusCode, three.response.statusCode]).toEqual([200, 200, 429]);
    const dave = await person('live-dave');
    const peek = await openSse('/dashboard/logs?user=live-carol', dave.cookie);
    expect(peek.response.statusCode).toBe(403);
    one.close();
    two.close();
    three.close();
    peek.close();
  });

  it('when the client goes away, then the Docker-side stream is destroyed and the slot is free again', async () => {
    const erin = await person('live-erin');
    const before = t.services.liveLogs.openStreams;
    const opened = engine.followed.length;
    const sse = await openSse('/dashboard/logs', erin.cookie);
    expect(t.services.liveLogs.openStreams).toBe(before + 1);
    const docker = engine.followed[opened]!;
    expect(docker.destroyed).toBe(false);
    sse.close();
    for (let i = 0; i < 50 && !docker.destroyed; i++) await new Promise((r) => setTimeout(r, 50));
    expect(docker.destroyed).toBe(true);
    expect(t.services.liveLogs.openStreams).toBe(before);
  });

  it('when the container floods, then lines beyond the rate are dropped and a marker says how many', async () => {
    const fred = await person('live-fred');
    const sse = await openSse('/dashboard/logs?tail=0', fred.cookie);
    await execIn(fred.container, ['sh', '-c', 'i=0; while [ $i -lt 400 ]; do echo "flood $i"; i=$((i+1)); done > /proc/1/fd/1']);
    await sse.until((e) => e.event === 'dropped', 5000);
    const dropped = sse.events.filter((e) => e.event === 'dropped').reduce((n, e) => n + (e.data as { count: number }).count, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(lines(sse).filter((l) => l.startsWith('flood')).length + dropped).toBeLessThanOrEqual(400);
    sse.close();
  });

  it("when a line is longer than 64 KB, then it arrives once, joined from Docker's 16 KB pieces and cut at 64 KB", async () => {
    const ivy = await person('live-ivy');
    const sse = await openSse('/dashboard/logs?tail=0', ivy.cookie);
    // 40 KB (Docker splits it in three frames, each with its own timestamp), then 100 KB.
    await execIn(ivy.container, ['sh', '-c', "head -c 40000 /dev/zero | tr '\\0' a > /proc/1/fd/1; echo > /proc/1/fd/1"]);
    await execIn(ivy.container, [
      'sh',
      '-c',
      "head -c 100000 /dev/zero | tr '\\0' b > /proc/1/fd/1; echo > /proc/1/fd/1; echo after > /proc/1/fd/1",
    ]);
    await sse.until((e) => (e.data as { text?: string }).text === 'after', 10_000);
    const got = lines(sse);
    expect(got[0]).toBe('a'.repeat(40000));
    expect(got[1]!.length).toBeLessThanOrEqual(64 * 1024 + 1);
    expect(got[1]).toMatch(/^b+…$/);
    expect(got[2]).toBe('after');
    sse.close();
  });

  it("when an admin watches another person's log, then it streams; an unknown name is 404", async () => {
    const owner = await person('live-jill');
    const admin = await person('live-admin');
    await t.query("UPDATE users SET is_admin = TRUE WHERE username = 'live-admin'");
    const sse = await openSse('/dashboard/logs?tail=0&user=live-jill', admin.cookie);
    expect(sse.response.statusCode).toBe(200);
    await owner.print('seen by the admin');
    await sse.until((e) => (e.data as { text?: string }).text === 'seen by the admin');
    sse.close();
    const missing = await openSse('/dashboard/logs?user=live-nobody', admin.cookie);
    expect(missing.response.statusCode).toBe(404);
    missing.close();
  });

  it('when the global cap is reached, then the next stream is 429 whoever asks', async () => {
    const capped = buildTestApp({ runId, env: { TRAEFIK_NETWORK: t.config.traefik.network, LOG_STREAMS_MAX: '1' } });
    const other = capped.app.listen(0, '127.0.0.1');
    await once(other, 'listening');
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const a = new FormClient(url);
      const b = new FormClient(url);
      expect((await a.signUp('cap-a')).status).toBe(303);
      expect((await b.signUp('cap-b')).status).toBe(303);
      const first = await openSse('/dashboard/logs', a.cookieHeader(), {}, url);
      const second = await openSse('/dashboard/logs', b.cookieHeader(), {}, url);
      expect([first.response.statusCode, second.response.statusCode]).toEqual([200, 429]);
      first.close();
      second.close();
    } finally {
      other.closeAllConnections();
      other.close();
      await capped.close();
    }
  });

  it('when tail is out of range, then 422', async () => {
    const gina = await person('live-gina');
    const sse = await openSse('/dashboard/logs?tail=5000', gina.cookie);
    expect(sse.response.statusCode).toBe(422);
    sse.close();
  });
});

describe('spawn progress', () => {
  it('when a person signs up, then the dashboard stream tells the steps up to ready', async () => {
    const hank = await person('live-hank');
    const sse = await openSse('/dashboard/progress', hank.cookie);
    await sse.until((e) => e.event === 'progress' && (e.data as { phase: string }).phase === 'ready', 15_000);
    const phases = sse.events.map((e) => (e.data as { phase: string }).phase);
    expect(phases).toEqual(['creating', 'starting', 'waiting', 'ready']);
    sse.close();
  });
});

describe('the starting page', () => {
  it('when a sleeping service is woken, then its event stream tells the steps before "ready"', async () => {
    const pub = buildTestApp({
      runId,
      env: { TRAEFIK_NETWORK: t.config.traefik.network, BASE_DOMAIN: 'live.test', SERVICE_ACCESS: 'public' },
    });
    try {
      expect((await signUp(supertest.agent(pub.app), { username: 'live-sleeper' })).status).toBe(303);
      const sleeper = (await pub.services.users.findByUsername('live-sleeper'))!;
      // The signup's own start is followed until its service answers; then it goes to sleep.
      for (let i = 0; i < 100 && pub.services.progress.inProgress(sleeper.id); i++) await new Promise((r) => setTimeout(r, 100));
      await pub.services.containers.stop(sleeper);
      const response = await supertest(pub.app)
        .get('/.spawner/wake-events')
        .set('Host', 'live-sleeper.live.test')
        .set('User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120')
        .set('Accept', 'text/event-stream');
      expect(response.status).toBe(200);
      const events = [...response.text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => [
        m[1],
        m[1] === 'progress' ? JSON.parse(m[2]!).phase : m[2],
      ]);
      expect(events).toEqual([
        ['progress', 'starting'],
        ['progress', 'waiting'],
        ['progress', 'ready'],
        ['ready', 'ok'],
      ]);
    } finally {
      await pub.close();
    }
  });
});
