// A person can only act on their own container (issue 5, point 7), over real HTTP on the real
// engine: bob sends alice's container id, name and user id in every field a careless handler
// might read, and only bob's container is touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient, removeTestResources, scopeLabels } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, signUp } from '../helpers/http.js';

const runId = inject('runId');
const docker = dockerClient();
const FILE = 'ownership';
let t: TestApp;
let bob: ReturnType<typeof request.agent>;

const containerOf = async (username: string) => {
  const user = await t.services.users.findByUsername(username);
  if (!user?.containerId || !user.containerName) throw new Error(`${username} has no container`);
  return { id: user.containerId, name: user.containerName, userId: String(user.id) };
};
const state = async (name: string) => (await docker.getContainer(name).inspect()).State;

/** Every plausible way a request could try to name alice's container instead of bob's. */
async function aliceEverywhere(): Promise<Record<string, string>> {
  const alice = await containerOf('alice');
  return {
    id: alice.id,
    containerId: alice.id,
    container_id: alice.id,
    container: alice.name,
    name: alice.name,
    containerName: alice.name,
    username: 'alice',
    user: 'alice',
    userId: alice.userId,
    user_id: alice.userId,
  };
}

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE) } });
  expectRedirect(await signUp(request.agent(t.app), { username: 'alice' }), '/dashboard');
  bob = request.agent(t.app);
  expectRedirect(await signUp(bob, { username: 'bob' }), '/dashboard');
});

afterAll(async () => {
  await t?.close();
  await removeTestResources(runId, FILE);
});

describe('when bob names alice’s container in his request', () => {
  it('when bob presses restart with alice’s id and name in the body and the query, then only bob’s container restarts', async () => {
    const alice = await containerOf('alice');
    const aliceBefore = await state(alice.name);
    const bobBefore = await state((await containerOf('bob')).name);
    const token = csrfFrom((await bob.get('/dashboard')).text);
    const fields = await aliceEverywhere();

    const response = await bob
      .post(`/container/restart?${new URLSearchParams(fields).toString()}`)
      .type('form')
      .send({ _csrf: token, ...fields });

    expectRedirect(response, '/dashboard');
    const aliceAfter = await state(alice.name);
    expect(aliceAfter.StartedAt).toBe(aliceBefore.StartedAt);
    expect(aliceAfter.Running).toBe(true);
    const bobAfter = await state((await containerOf('bob')).name);
    expect(new Date(bobAfter.StartedAt).getTime()).toBeGreaterThan(new Date(bobBefore.StartedAt).getTime());
    expect((await containerOf('alice')).id).toBe(alice.id);
  });

  it('when bob presses start with alice’s stopped container named in the request, then alice’s stays stopped and bob’s runs', async () => {
    const alice = await containerOf('alice');
    await docker.getContainer(alice.name).stop({ t: 0 });
    await docker.getContainer((await containerOf('bob')).name).stop({ t: 0 });
    const token = csrfFrom((await bob.get('/dashboard')).text);

    const response = await bob
      .post('/container/start')
      .type('form')
      .send({ _csrf: token, ...(await aliceEverywhere()) });

    expectRedirect(response, '/dashboard');
    expect((await state(alice.name)).Running).toBe(false);
    expect((await state((await containerOf('bob')).name)).Running).toBe(true);
  });

  it('when someone not logged in names alice’s container, then 401 and nothing changes', async () => {
    const alice = await containerOf('alice');
    await docker.getContainer(alice.name).start();
    const before = await state(alice.name);
    const stranger = request.agent(t.app);
    const token = csrfFrom((await stranger.get('/login')).text);

    const response = await stranger
      .post('/container/restart')
      .type('form')
      .send({ _csrf: token, ...(await aliceEverywhere()) });

    expect(response.status).toBe(401);
    expect((await state(alice.name)).StartedAt).toBe(before.StartedAt);
  });
});
