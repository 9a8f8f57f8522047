// A person's data lives in a named volume: it survives restart, stop, removal and re-creation of
// the container, and goes only with the account (a POST confirmed by the username and the
// password); a wake racing the deletion leaves nothing behind, and the sweep removes what an
// account that is gone still has running.
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
    expectRedirect(
      await agent.post('/account/delete').type('form').send({ _csrf: token, confirm: 'leaver', password: 'correct horse battery' }),
      '/login?deleted=1',
    );
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

  it('when the password is wrong or missing, then 403 and nothing is deleted', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'wary' }), '/dashboard');
    const { name } = await containerOf(t, 'wary');
    const token = csrfFrom((await agent.get('/dashboard')).text);
    for (const password of [undefined, '', 'not-my-password']) {
      const refused = await agent
        .post('/account/delete')
        .type('form')
        .send({ _csrf: token, confirm: 'wary', ...(password === undefined ? {} : { password }) });
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('Nothing was deleted');
    }
    expect(await t.services.users.findByUsername('wary')).toBeDefined();
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(true);
    await docker.getVolume(`${name}-data`).inspect();
  });

  it('when 20 wakes arrive while the account is being deleted, then no container or volume of it is left', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'racer' }), '/dashboard');
    const { user, name } = await containerOf(t, 'racer');
    await t.services.containers.stop(user);
    const token = csrfFrom((await agent.get('/dashboard')).text);
    const wake = () =>
      request(t.app)
        .get('/')
        .set('Host', `racer.${t.config.baseDomain}`)
        .set('User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0')
        .set('Accept', 'text/html')
        .then((r) => r.status);
    const deletion = agent.post('/account/delete').type('form').send({ _csrf: token, confirm: 'racer', password: 'correct horse battery' });
    const statuses = await Promise.all([
      ...Array.from({ length: 10 }, wake),
      deletion.then((r) => r.status),
      ...Array.from({ length: 10 }, wake),
    ]);
    expect(statuses[10]).toBe(303);
    const left = await docker.listContainers({ all: true, filters: { label: [`spawner.user_id=${user.id}`, `spawner.username=racer`] } });
    expect(left.filter((c) => c.Names.includes(`/${name}`))).toEqual([]);
    await expect(docker.getVolume(`${name}-data`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('when a wake is queued behind the removal of a deleted account, then it is refused and starts nothing', async () => {
    expectRedirect(await signUp(request.agent(t.app), { username: 'latecomer' }), '/dashboard');
    const { user, name } = await containerOf(t, 'latecomer');
    // The wake arrives just after the deletion began: its start waits behind the removal.
    const removal = t.services.containers.retire(user);
    const wake = t.services.containers.ensureRunning(user, 'wake');
    await removal;
    await expect(wake).rejects.toThrow(/being deleted/);
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(`${name}-data`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('when a container is left running for an account that no longer exists, then the sweep removes it and keeps its volume', async () => {
    expectRedirect(await signUp(request.agent(t.app), { username: 'ghost' }), '/dashboard');
    const { user, name } = await containerOf(t, 'ghost');
    await t.services.users.delete(user.id); // as a restored older backup would have it
    const report = await t.services.sweeper.sweep();
    expect(report.removedOrphans).toEqual([name]);
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await docker.getVolume(`${name}-data`).inspect();
  });
});
