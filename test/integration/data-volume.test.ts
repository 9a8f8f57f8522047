// A person's data lives in a named volume: it survives restart, stop, removal and re-creation of
// the container, and goes only with the account (a confirmed POST).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, logIn, signUp } from '../helpers/http.js';

const runId = inject('runId');
const docker = dockerClient();
let t: TestApp;

async function run(container: string, cmd: string[]): Promise<{ code: number | null; out: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve());
  });
  const info = await exec.inspect();
  return { code: info.ExitCode, out: Buffer.concat(chunks).toString('utf8') };
}

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-volume`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network } });
});

afterAll(() => t?.close());

describe('the data volume', () => {
  it('when a file is written to /data, then it survives restart, stop, removal and re-creation', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'keeper' }), '/dashboard');
    const user = t.services.users.findByUsername('keeper')!;
    const name = `${t.config.containers.namePrefix}-keeper-${user.id}`;
    const volume = `${name}-data`;
    const info = await docker.getContainer(name).inspect();
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: volume, Destination: '/data', RW: true })]);
    expect((await docker.getVolume(volume).inspect()).Labels).toMatchObject({
      'spawner.managed': 'true',
      'spawner.username': 'keeper',
      'spawner.test-run': runId,
    });

    expect((await run(name, ['sh', '-c', 'echo precious > /data/notes.txt'])).code).toBe(0);
    await t.services.containers.restart(user);
    await t.services.containers.stop(user);
    await docker.getContainer(name).remove({ force: true });
    expectRedirect(await logIn(request.agent(t.app), { username: 'keeper' }), '/dashboard');
    const recreated = await docker.getContainer(name).inspect();
    expect(recreated.Id).not.toBe(info.Id);
    expect((await run(name, ['cat', '/data/notes.txt'])).out).toContain('precious');
  });

  it('when the account is deleted without typing the username, then nothing is deleted', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'careful' }), '/dashboard');
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/account/delete').type('form').send({ _csrf: token, confirm: 'someone-else' }), '/dashboard');
    expect((await agent.get('/dashboard')).text).toContain('type your username');
    expect(t.services.users.findByUsername('careful')).toBeDefined();
  });

  it('when the account is deleted with confirmation, then the container, the volume and the account are gone', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'leaver' }), '/dashboard');
    const user = t.services.users.findByUsername('leaver')!;
    const name = `${t.config.containers.namePrefix}-leaver-${user.id}`;
    expect((await run(name, ['sh', '-c', 'echo bye > /data/x'])).code).toBe(0);
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/account/delete').type('form').send({ _csrf: token, confirm: 'leaver' }), '/login?deleted=1');
    expect(t.services.users.findByUsername('leaver')).toBeUndefined();
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(`${name}-data`).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expectRedirect(await agent.get('/dashboard'), '/login');
    expect((await agent.get('/login?deleted=1')).text).toContain('have been deleted');
    // The name is free again, and a new account starts with an empty volume.
    const again = request.agent(t.app);
    expectRedirect(await signUp(again, { username: 'leaver', email: 'leaver2@example.com' }), '/dashboard');
    const fresh = t.services.users.findByUsername('leaver')!;
    const freshName = `${t.config.containers.namePrefix}-leaver-${fresh.id}`;
    expect((await run(freshName, ['sh', '-c', 'ls /data'])).out.trim()).toBe('');
  });
});
