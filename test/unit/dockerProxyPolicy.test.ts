// The Docker API proxy's decisions as a table: every call Spawner's Docker backend makes, with the
// bodies it really builds (buildContainerSpec over planFromConfig, the nudge's spec, the volume,
// network and exec bodies of engine.ts), is allowed; each hostile variation is refused with its
// reason. Pure: no Docker, no HTTP (the integration test runs the same proxy against the engine).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ownerLabels } from '../../src/containers/labels.js';
import { planFromConfig } from '../../src/containers/plan.js';
import { buildContainerSpec } from '../../src/containers/docker/spec.js';
import { TraefikNudge } from '../../src/containers/docker/nudge.js';
import { exitExecutable, NUDGE_IMAGE_TAG, nudgeImageArchive } from '../../src/containers/docker/nudgeImage.js';
import type { DockerEngine } from '../../src/containers/docker/engine.js';
import { createLogger } from '../../src/logger.js';
import { decide, type ProxyRules } from '../../src/dockerProxy/policy.js';
import type { Json, JsonObject } from '../../src/dockerProxy/shape.js';

const rules: ProxyRules = { allowExec: true, capAdd: [], namePrefix: 'user' };
const config = loadConfig({ BASE_DOMAIN: 'apps.example.com', CONTAINER_EXTRA_LABELS: 'team=blue' });
const plan = planFromConfig(config, { id: 7, username: 'alice' });
/** What dockerode sends: the spec as JSON, the name in the query too. */
const spec = JSON.parse(JSON.stringify(buildContainerSpec(plan, { id: 'sha256:abc', user: '' }))) as JsonObject;
const nudgeSpec = JSON.parse(
  JSON.stringify(new TraefikNudge({} as DockerEngine, config, createLogger({ level: 'silent' })).spec(NUDGE_IMAGE_TAG)),
) as JsonObject;
const CREATE = `/containers/create?name=${plan.name}`;

/** The spec with one change in HostConfig (undefined removes the field). */
function withHost(changes: Record<string, Json | undefined>): JsonObject {
  const host = { ...(spec.HostConfig as JsonObject) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete host[key];
    else host[key] = value;
  }
  return { ...spec, HostConfig: host };
}

const reasonOf = (method: string, url: string, body?: Json | Buffer, r: ProxyRules = rules) => {
  const decision = decide(method, url, body, r);
  return decision.allowed ? 'allowed' : `${decision.status} ${decision.reason}`;
};

describe('the calls Spawner makes, with the bodies it builds', () => {
  const allowed: [string, string, Json | Buffer | undefined][] = [
    ['GET', '/_ping', undefined],
    ['HEAD', '/_ping', undefined],
    ['GET', '/v1.41/version', undefined],
    ['GET', '/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D', undefined],
    ['GET', '/containers/json?all=true&filters=%7B%7D', undefined],
    ['GET', `/containers/${plan.name}/json`, undefined],
    ['POST', CREATE, spec],
    ['POST', `/containers/create?name=user-traefik-nudge`, nudgeSpec],
    ['POST', `/containers/${plan.name}/start`, undefined],
    ['POST', `/containers/${plan.name}/stop?t=10`, { t: 10 }],
    ['POST', `/containers/${plan.name}/restart?t=0`, { t: 0 }],
    ['POST', `/containers/${plan.name}/pause`, undefined],
    ['POST', `/containers/${plan.name}/unpause`, undefined],
    ['DELETE', `/containers/${plan.name}?force=true`, undefined],
    ['GET', `/containers/${plan.name}/stats?stream=false&one-shot=true`, undefined],
    ['GET', `/containers/${plan.name}/logs?stdout=true&stderr=true&follow=true&tail=50`, undefined],
    ['POST', `/containers/${plan.name}/exec`, { Cmd: ['cat', '/proc/net/tcp', '/proc/net/tcp6'], AttachStdout: true, AttachStderr: true }],
    ['POST', '/exec/0123abcd/start', { hijack: true, stdin: false }],
    ['GET', '/exec/0123abcd/json', undefined],
    ['GET', '/images/user-service-template:latest/json', undefined],
    ['GET', '/images/registry.example.com:5000/team/image@sha256:abcd/json', undefined],
    ['POST', '/images/load?quiet=true', nudgeImageArchive(exitExecutable('amd64')!, 'amd64', { 'spawner.nudge': 'true' })],
    ['POST', '/volumes/create', { Name: plan.volume, Labels: ownerLabels(plan) }],
    ['DELETE', `/volumes/${plan.volume}`, undefined],
    ['GET', '/networks/web', undefined],
    ['GET', '/networks?filters=%7B%7D', undefined],
    // prepare.ts's ingress network, then a per-person network as the isolation work builds it.
    [
      'POST',
      '/networks/create',
      {
        Name: 'web',
        Driver: 'bridge',
        CheckDuplicate: true,
        Internal: false,
        Labels: { 'spawner.managed-network': 'true' },
        Options: { 'com.docker.network.bridge.enable_icc': 'false' },
      },
    ],
    [
      'POST',
      '/networks/create',
      {
        Name: 'user-alice-7-net',
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: ownerLabels(plan),
        Internal: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: '10.210.0.16/28', Gateway: '10.210.0.17' }] },
      },
    ],
    ['POST', '/networks/user-alice-7-net/connect', { Container: 'traefik' }],
    ['POST', '/networks/user-alice-7-net/disconnect', { Container: 'traefik', Force: true }],
    ['DELETE', '/networks/user-alice-7-net', undefined],
  ];
  it.each(allowed)('when %s %s, then it is allowed', (method, url, body) => {
    expect(reasonOf(method, url, body)).toBe('allowed');
  });

  it('when the create is forwarded, then only name (and platform) stay in the query dockerode fills with the spec', () => {
    const decision = decide('POST', `${CREATE}&HostConfig=%7B%22Privileged%22%3Atrue%7D&platform=linux`, spec, rules);
    expect(decision).toEqual({ allowed: true, upstreamUrl: `/containers/create?name=${plan.name}&platform=linux` });
  });
});

describe('container creates Spawner would never send', () => {
  const volumeMount = (spec.HostConfig as { Mounts: JsonObject[] }).Mounts[0]!;
  const refused: [string, JsonObject, RegExp][] = [
    ['privileged', withHost({ Privileged: true }), /privileged/],
    ['a host bind in Binds', withHost({ Binds: ['/:/host'] }), /Binds/],
    ['a bind mount', withHost({ Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }), /type bind/],
    ['an npipe mount', withHost({ Mounts: [{ Type: 'npipe', Source: 'x', Target: '/x' }] }), /type npipe/],
    [
      'a volume made on the fly with bind driver options',
      withHost({
        Mounts: [{ ...volumeMount, VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: '/' } } } }],
      }),
      /VolumeOptions/,
    ],
    ["the operator's own volume", withHost({ Mounts: [{ ...volumeMount, Source: 'spawner_spawner-data' }] }), /not a person's data volume/],
    ['network mode host', withHost({ NetworkMode: 'host' }), /network mode host/],
    ["another container's network", withHost({ NetworkMode: 'container:traefik' }), /container:traefik/],
    ['network mode none for a person', withHost({ NetworkMode: 'none' }), /only for the Traefik nudge/],
    ['the host PID namespace', withHost({ PidMode: 'host' }), /PidMode/],
    ['the host IPC namespace', withHost({ IpcMode: 'host' }), /IpcMode/],
    ['the host UTS namespace', withHost({ UTSMode: 'host' }), /UTSMode/],
    ['the host user namespace', withHost({ UsernsMode: 'host' }), /UsernsMode/],
    ['the host cgroup namespace', withHost({ CgroupnsMode: 'host' }), /CgroupnsMode/],
    ['SYS_ADMIN', withHost({ CapAdd: ['SYS_ADMIN'] }), /capabilities not allowed: SYS_ADMIN/],
    ['ALL capabilities', withHost({ CapAdd: ['ALL'] }), /capabilities not allowed: ALL/],
    ['capabilities kept', withHost({ CapDrop: [] }), /drop ALL/],
    ['seccomp off', withHost({ SecurityOpt: ['no-new-privileges:true', 'seccomp=unconfined'] }), /seccomp=unconfined/],
    ['AppArmor off', withHost({ SecurityOpt: ['no-new-privileges:true', 'apparmor=unconfined'] }), /apparmor=unconfined/],
    ['SELinux labels off', withHost({ SecurityOpt: ['no-new-privileges:true', 'label=disable'] }), /label=disable/],
    ['no no-new-privileges', withHost({ SecurityOpt: undefined }), /no-new-privileges/],
    ['a device', withHost({ Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] }), /Devices/],
    ['a GPU', withHost({ DeviceRequests: [{ Count: -1, Capabilities: [['gpu']] }] }), /DeviceRequests/],
    ['device cgroup rules', withHost({ DeviceCgroupRules: ['b 8:* rmw'] }), /DeviceCgroupRules/],
    ['sysctls', withHost({ Sysctls: { 'net.ipv4.ip_forward': '1' } }), /Sysctls/],
    ['published ports', withHost({ PortBindings: { '8080/tcp': [{ HostPort: '80' }] } }), /PortBindings/],
    ['all ports published', withHost({ PublishAllPorts: true }), /PublishAllPorts/],
    ["another container's volumes", withHost({ VolumesFrom: ['traefik'] }), /VolumesFrom/],
    ['nothing masked in /proc', withHost({ MaskedPaths: [] }), /MaskedPaths/],
    ['no memory limit', withHost({ Memory: 0 }), /memory limit/],
    ['no process limit', withHost({ PidsLimit: undefined }), /process limit/],
    [
      'a log driver that ships elsewhere',
      withHost({ LogConfig: { Type: 'syslog', Config: { 'syslog-address': 'udp://x:514' } } }),
      /syslog/,
    ],
    ['an unknown setting', withHost({ Runtime: 'sysbox-runc' }), /HostConfig.Runtime not allowed/],
    ['a lower-case privileged (Go matches names case-insensitively)', withHost({ privileged: true }), /privileged not allowed/],
    ['a look-alike key (Go folds ſ to s)', withHost({ Bindſ: ['/:/host'] }), /Bindſ not allowed/],
    ['root', { ...spec, User: 'root' }, /non-root/],
    ['uid 0 with a group', { ...spec, User: '0:1000' }, /non-root/],
    ["the image's user (root when unset)", { ...spec, User: '' }, /non-root/],
    ['no managed label', { ...spec, Labels: { 'traefik.enable': 'true' } }, /spawner.managed=true/],
    ['HostConfig fields at the top level (Docker reads them there too)', { ...spec, Privileged: true }, /Privileged not allowed/],
    ['Binds at the top level', { ...spec, Binds: ['/:/host'] }, /Binds not allowed/],
    ['a HostConfig spelled otherwise', { ...spec, hostConfig: { Privileged: true } }, /hostConfig not allowed/],
    ['anonymous volumes', { ...spec, Volumes: { '/x': {} } }, /Volumes not allowed/],
    ['an endpoint with a fixed address', { ...spec, NetworkingConfig: { EndpointsConfig: { web: { IPAMConfig: {} } } } }, /IPAMConfig/],
  ];
  it.each(refused)('when the create asks for %s, then it is refused', (_what, body, reason) => {
    const answer = reasonOf('POST', CREATE, body);
    expect(answer).toMatch(/^403 /);
    expect(answer).toMatch(reason);
  });

  it('when the create names a container outside the prefix, then it is refused', () => {
    expect(reasonOf('POST', '/containers/create?name=traefik', spec)).toMatch(/^403 container names must start with user-/);
  });

  it('when a capability is on DOCKER_PROXY_CAP_ADD, then adding it passes (and only it)', () => {
    const withCap = { ...rules, capAdd: ['NET_BIND_SERVICE'] };
    expect(reasonOf('POST', CREATE, withHost({ CapAdd: ['NET_BIND_SERVICE'] }), withCap)).toBe('allowed');
    expect(reasonOf('POST', CREATE, withHost({ CapAdd: ['CAP_NET_BIND_SERVICE', 'NET_RAW'] }), withCap)).toMatch(/NET_RAW/);
  });

  it('when an unknown HostConfig field holds its "not set" value, then it passes (clients that send every field)', () => {
    expect(reasonOf('POST', CREATE, withHost({ ShmSize: 0, Links: null, Dns: [], PidMode: '' }))).toBe('allowed');
  });

  it('when the nudge asks for a network or a person for none, then each is refused', () => {
    const nudgeHost = { ...(nudgeSpec.HostConfig as JsonObject), NetworkMode: 'web' };
    expect(reasonOf('POST', '/containers/create?name=user-traefik-nudge', { ...nudgeSpec, HostConfig: nudgeHost })).toMatch(
      /nudge runs without a network/,
    );
  });
});

describe('other calls and bodies', () => {
  const refused: [string, string, Json | Buffer | undefined, RegExp][] = [
    ['GET', '/info', undefined, /not an API call Spawner makes/],
    ['POST', '/build', undefined, /not an API call/],
    ['POST', '/images/create?fromImage=alpine', undefined, /not an API call/],
    ['POST', '/images/user-service-template/tag?repo=x', undefined, /not an API call/],
    ['DELETE', '/images/user-service-template:latest', undefined, /not an API call/],
    ['PUT', `/containers/${plan.name}/archive?path=/`, undefined, /not an API call/],
    ['POST', `/containers/${plan.name}/update`, { Memory: 0 }, /not an API call/],
    ['POST', `/commit?container=${plan.name}`, undefined, /not an API call/],
    ['POST', `/containers/${plan.name}/attach?stream=1&stdin=1`, undefined, /not an API call/],
    ['POST', `/containers/${plan.name}/kill`, undefined, /not an API call/],
    ['GET', `/containers/${plan.name}/export`, undefined, /not an API call/],
    ['POST', '/containers/prune', undefined, /not an API call/],
    ['GET', '/plugins', undefined, /not an API call/],
    ['POST', '/swarm/init', {}, /not an API call/],
    ['POST', '/services/create', {}, /not an API call/],
    ['GET', '/secrets', undefined, /not an API call/],
    ['GET', '/configs', undefined, /not an API call/],
    ['GET', '/nodes', undefined, /not an API call/],
    ['GET', '/system/df', undefined, /not an API call/],
    ['POST', '/session', undefined, /not an API call/],
    ['GET', '/distribution/alpine/json', undefined, /not an API call/],
    ['GET', '/volumes', undefined, /not an API call/],
    ['GET', '/v1.23/containers/json', undefined, /API version v1.23 is refused/],
    ['GET', '/containers/x%2F..%2Fcreate/json', undefined, /not one Spawner uses/],
    ['GET', '/containers/../info', undefined, /not one Spawner uses/],
    ['POST', `/containers/${plan.name}/start`, { HostConfig: { Privileged: true } }, /^400 this call takes no body/],
    ['GET', '/containers/json', { x: 1 }, /^400 this call takes no body/],
    ['POST', CREATE, undefined, /^400 this call needs a body/],
    ['POST', `/containers/${plan.name}/exec`, { Cmd: ['sh', '-c', 'id'], AttachStdout: true }, /only the connection probe's exec/],
    [
      'POST',
      `/containers/${plan.name}/exec`,
      { Cmd: ['cat', '/proc/net/tcp', '/proc/net/tcp6'], User: 'root', Privileged: true },
      /User, Privileged not allowed/,
    ],
    ['POST', '/exec/0123abcd/start', { Detach: false, Tty: true }, /no input and no terminal/],
    [
      'POST',
      '/volumes/create',
      { Name: plan.volume, Labels: ownerLabels(plan), DriverOpts: { type: 'none', o: 'bind', device: '/' } },
      /DriverOpts/,
    ],
    ['POST', '/volumes/create', { Name: plan.volume, Driver: 'nfs', Labels: ownerLabels(plan) }, /driver nfs/],
    ['POST', '/volumes/create', { Name: plan.volume, Labels: {} }, /spawner.managed=true/],
    ['POST', '/volumes/create', { Name: 'spawner_spawner-data', Labels: ownerLabels(plan) }, /not named like a person's/],
    ['POST', '/networks/create', { Name: 'x', Driver: 'macvlan', Labels: ownerLabels(plan) }, /driver macvlan/],
    [
      'POST',
      '/networks/create',
      { Name: 'x', Labels: ownerLabels(plan), Options: { 'com.docker.network.bridge.name': 'eth0' } },
      /network option com.docker.network.bridge.name=eth0 not allowed/,
    ],
    [
      'POST',
      '/networks/create',
      { Name: 'x', Labels: ownerLabels(plan), Options: { 'com.docker.network.bridge.enable_icc': 'true' } },
      /enable_icc=true not allowed/,
    ],
    ['POST', '/networks/create', { Name: 'x', Driver: 'bridge' }, /spawner.managed=true/],
    ['POST', '/networks/x/connect', { Container: 'c', EndpointConfig: { IPAddress: '10.0.0.1' } }, /IPAddress/],
    ['POST', `/containers/${plan.name}/stop`, { t: 1, HostConfig: {} }, /HostConfig not allowed/],
  ];
  it.each(refused)('when %s %s, then it is refused', (method, url, body, reason) => {
    const answer = reasonOf(method, url, body);
    expect(answer).not.toBe('allowed');
    expect(answer).toMatch(reason);
  });

  it('when exec is turned off, then the probe exec is refused too', () => {
    const off = { ...rules, allowExec: false };
    const probe = { Cmd: ['cat', '/proc/net/tcp', '/proc/net/tcp6'], AttachStdout: true };
    expect(reasonOf('POST', `/containers/${plan.name}/exec`, probe, off)).toMatch(/DOCKER_PROXY_ALLOW_EXEC=false/);
    expect(reasonOf('POST', '/exec/0123abcd/start', { hijack: true }, off)).toMatch(/DOCKER_PROXY_ALLOW_EXEC=false/);
  });

  it('when an image archive carries another tag (the template’s), then the load is refused', () => {
    const archive = nudgeImageArchive(exitExecutable('amd64')!, 'amd64', {});
    const retagged = Buffer.from(archive.toString('latin1').replace(NUDGE_IMAGE_TAG, 'user-template:1'), 'latin1');
    expect(NUDGE_IMAGE_TAG).toHaveLength('user-template:1'.length);
    expect(reasonOf('POST', '/images/load', retagged)).toMatch(/^403 image archive: tags not allowed: user-template:1/);
    expect(reasonOf('POST', '/images/load', Buffer.from('not a tar at all'.padEnd(1024, '\0')))).toMatch(/no manifest.json/);
  });
});
