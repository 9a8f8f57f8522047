// The Docker event watch's reconnect: when the stream ends it asks again, from the time of the
// last event it saw, and a listener keeps hearing events; stopping the watch stops reconnecting.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { BackendEvent } from '../../src/containers/backend.js';
import { backendEventOf, ReplayFilter, watchDockerEvents } from '../../src/containers/docker/events.js';

const line = (action: string, time: number, timeNano = time * 1e9) =>
  `${JSON.stringify({ Type: 'container', Action: action, Actor: { ID: 'abc', Attributes: { name: 'user-alice-7', 'spawner.user_id': '7', 'spawner.username': 'alice' } }, time, timeNano })}\n`;

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}

describe('backendEventOf', () => {
  it('when Docker reports a health status, then the action and the reading are split, and unknown actions are dropped', () => {
    const event = backendEventOf(JSON.parse(line('health_status: healthy', 100)) as never);
    expect(event).toMatchObject({ action: 'health_status', health: 'healthy', userId: 7, username: 'alice', name: 'user-alice-7' });
    expect(backendEventOf(JSON.parse(line('exec_start: sh', 100)) as never)).toBeNull();
  });
});

describe('watchDockerEvents', () => {
  it('when the stream ends, then it reconnects from the last event’s time and the listener hears what comes after', async () => {
    const streams: PassThrough[] = [];
    const sinces: (number | undefined)[] = [];
    const engine = {
      events: (_labels: string[], since?: number) => {
        sinces.push(since);
        const stream = new PassThrough();
        streams.push(stream);
        return Promise.resolve(stream);
      },
    };
    const heard: BackendEvent[] = [];
    const stop = watchDockerEvents(engine, (event) => heard.push(event), createLogger({ level: 'silent' }));
    await until(() => streams.length === 1);
    streams[0]!.write(line('start', 1000));
    await until(() => heard.length === 1);
    streams[0]!.end();
    streams[0]!.destroy();
    await until(() => streams.length === 2);
    expect(sinces).toEqual([undefined, 1000]);
    streams[1]!.write(line('die', 1001));
    await until(() => heard.length === 2);
    expect(heard.map((e) => e.action)).toEqual(['start', 'die']);
    stop();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(streams).toHaveLength(2);
    expect(streams[1]!.destroyed).toBe(true);
  });
});

describe('a resumed stream', () => {
  it('when Docker replays the last second after a reconnect, then each event is heard once and the connection changes are told', async () => {
    const streams: PassThrough[] = [];
    const engine = {
      events: () => {
        const stream = new PassThrough();
        streams.push(stream);
        return Promise.resolve(stream);
      },
    };
    const heard: string[] = [];
    const connection: boolean[] = [];
    const stop = watchDockerEvents(
      engine,
      (event) => heard.push(event.action),
      createLogger({ level: 'silent' }),
      (up) => connection.push(up),
    );
    await until(() => streams.length === 1);
    streams[0]!.write(line('start', 1000, 1000_000_000_100) + line('pause', 1000, 1000_000_000_200));
    await until(() => heard.length === 2);
    streams[0]!.destroy();
    await until(() => streams.length === 2);
    // `since=1000` replays the whole second: start and pause again, then what is new.
    streams[1]!.write(
      line('start', 1000, 1000_000_000_100) + line('pause', 1000, 1000_000_000_200) + line('unpause', 1000, 1000_000_000_300),
    );
    await until(() => heard.length === 3);
    stop();
    expect(heard).toEqual(['start', 'pause', 'unpause']);
    expect(connection).toEqual([true, false, true]);
  });
});

describe('ReplayFilter', () => {
  it('when two live events carry times out of order, then both are heard; an exact repeat is not', () => {
    const filter = new ReplayFilter();
    const event = (action: string, nano: number) => JSON.parse(line(action, Math.floor(nano / 1e9), nano)) as never;
    expect(filter.fresh(event('die', 5_000_000_900))).toBe(true);
    expect(filter.fresh(event('start', 5_000_000_100))).toBe(true);
    expect(filter.fresh(event('die', 5_000_000_900))).toBe(false);
    expect(filter.fresh(event('start', 5_000_000_100))).toBe(false);
    expect(filter.since).toBe(5);
  });
});
