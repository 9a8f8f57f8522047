// A person's data lives in a named volume: it survives restart, stop, removal and re-creation of
// the container, and goes only with the account (a confirmed POST).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, containerOf, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { execIn } from '../helpers/exec.js';
import { csrfFrom, expectRedirect, logIn, signUp } from '../helpers/http.js';

const runId = inject('runId');
const docker = dockerClient();
let t: TestApp;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-volume`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network } });
});

afterAll(() => t?.close());

describe('the data volume', () => {
  it('when a file is written to /data, then it survives restart, stop, removal and re-creation', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'keeper' }), '/dashboard');
    const { user, name } = await containerOf(t, 'keeper');
    const volume = `${name}-data`;
    const info = await docker.getContainer(name).inspect();
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: volume, Destination: '/data', RW: true })]);
    expect((await docker.getVolume(volume).inspect()).Labels).toMatchObject({
      'spawner.managed': 'true',
      'spawner.username': 'keeper',
      'spawner.test-run': runId,
    });

    expect((await execIn(name, ['sh', '-c', 'echo precious > /data/notes.txt'])).exitCode).toBe(0);
    await t.services.containers.restart(user);
    await t.services.containers.stop(user);
    await docker.getContainer(name).remove({ force: true });
    expectRedirect(await logIn(request.agent(t.app), { username: 'keeper' }), '/dashboard');
    const recreated = await docker.getContainer(name).inspect();
    expect(recreated.Id).not.toBe(info.Id);
    expect((await execIn(name, ['cat', '/data/notes.txt'])).stdout).toContain('precious');
  });

  it('when the account is deleted without typing the username, then nothing is deleted', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'careful' }), '/dashboard');
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/account/delete').type('form').send({ _csrf: token, confirm: 'someone-else' }), '/dashboard');
    expect((await agent.get('/dashboard')).text).toContain('type your username');
    expect(await t.services.users.findByUsername('careful')).toBeDefined();
  });

  it('when the account is deleted with confirmation, then the container, the volume and the account are gone', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'leaver' }), '/dashboard');
    const { name } = await containerOf(t, 'leaver');
    expect((await execIn(name, ['sh', '-c', 'echo bye > /data/x'])).exitCode).toBe(0);
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/account/delete').type('form').send({ _csrf: token, confirm: 'leaver' }), '/login?deleted=1');
    expect(await t.services.users.findByUsername('leaver')).toBeUndefined();
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(`${name}-data`).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expectRedirect(await agent.get('/dashboard'), '/login');
    expect((await agent.get('/login?deleted=1')).text).toContain('have been deleted');
    // The name is free again, and a new account starts with an empty volume.
    const again = request.agent(t.app);
    expectRedirect(await signUp(again, { username: 'leaver', email: 'leaver2@example.com' }), '/dashboard');
    const listing = await execIn((await containerOf(t, 'leaver')).name, ['sh', '-c', 'ls /data']);
    expect(listing.stdout.trim() + listing.stderr).toBe('');
  });
});
