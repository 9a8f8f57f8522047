// What a container create may ask for through the proxy: the shape Spawner's Docker backend builds
// (src/containers/docker/spec.ts, hardenedHostConfig) and the Traefik nudge's, nothing wider. Every
// field of the body and of HostConfig is on a list; a field Spawner does not set is refused unless it
// holds Docker's "not set" value. So a newer Spawner that sets a new field is refused until the
// field is listed here: test/unit/dockerProxyPolicy.test.ts builds Spawner's real spec and fails first.
import { MANAGED_LABEL } from '../containers/labels.js';
import {
  isEmpty,
  isObject,
  objectAt,
  onlyKeys,
  optionalBoolean,
  optionalNumber,
  optionalString,
  Refusal,
  stringList,
  stringMap,
  type Json,
  type JsonObject,
} from './shape.js';

/** The Traefik nudge's marker (src/containers/docker/nudge.ts); it is not a person's container. */
export const NUDGE_LABEL = 'spawner.nudge';

export interface CreateRules {
  /** Capabilities a container may add back after dropping all (mirror of CONTAINER_CAP_ADD). */
  capAdd: readonly string[];
  /** CONTAINER_NAME_PREFIX: container and volume names start with `<prefix>-`. */
  namePrefix: string;
}

/** Config fields of the create body (Docker's container.Config) that may be set. */
const BODY_FIELDS = [
  'name', // dockerode repeats the query's name in the body; Docker ignores it there
  'Image',
  'User',
  'Cmd',
  'Entrypoint',
  'Env',
  'Labels',
  'ExposedPorts',
  'WorkingDir',
  'Hostname',
  'Domainname',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'StopSignal',
  'StopTimeout',
  'Healthcheck',
  'HostConfig',
  'NetworkingConfig',
];

/** HostConfig fields with a rule each; any other field must hold Docker's "not set" value. */
const HOST_CONFIG_RULES: Record<string, (value: Json | undefined, rules: CreateRules) => void> = {
  NetworkMode: () => undefined, // checked with the labels (the nudge alone may use none)
  RestartPolicy: (value) => {
    const policy = objectAt(value, 'HostConfig.RestartPolicy');
    onlyKeys(policy, ['Name', 'MaximumRetryCount'], 'HostConfig.RestartPolicy');
    const name = optionalString(policy.Name, 'HostConfig.RestartPolicy.Name');
    if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw new Refusal(`restart policy ${name} not allowed`);
  },
  Init: (value) => void optionalBoolean(value, 'HostConfig.Init'),
  Memory: (value) => {
    if (optionalNumber(value, 'HostConfig.Memory') <= 0) throw new Refusal('HostConfig.Memory must set a memory limit');
  },
  MemorySwap: (value) => void optionalNumber(value, 'HostConfig.MemorySwap'),
  CpuQuota: (value) => void optionalNumber(value, 'HostConfig.CpuQuota'),
  CpuPeriod: (value) => void optionalNumber(value, 'HostConfig.CpuPeriod'),
  PidsLimit: (value) => {
    if (optionalNumber(value, 'HostConfig.PidsLimit') <= 0) throw new Refusal('HostConfig.PidsLimit must set a process limit');
  },
  Privileged: (value) => {
    if (optionalBoolean(value, 'HostConfig.Privileged')) throw new Refusal('privileged containers are refused');
  },
  CapDrop: (value) => {
    if (!stringList(value, 'HostConfig.CapDrop').some((cap) => capName(cap) === 'ALL')) {
      throw new Refusal('HostConfig.CapDrop must drop ALL capabilities');
    }
  },
  CapAdd: (value, rules) => {
    const extra = stringList(value, 'HostConfig.CapAdd').filter((cap) => !rules.capAdd.includes(capName(cap)));
    if (extra.length > 0) throw new Refusal(`capabilities not allowed: ${extra.join(', ')} (DOCKER_PROXY_CAP_ADD)`);
  },
  SecurityOpt: (value) => {
    const options = stringList(value, 'HostConfig.SecurityOpt');
    const other = options.filter((option) => !NO_NEW_PRIVILEGES.includes(option.replace(/\s/g, '')));
    if (other.length > 0) throw new Refusal(`security options not allowed: ${other.join(', ')}`);
    if (options.length === 0) throw new Refusal('HostConfig.SecurityOpt must hold no-new-privileges:true');
  },
  ReadonlyRootfs: (value) => void optionalBoolean(value, 'HostConfig.ReadonlyRootfs'),
  Tmpfs: (value) => void stringMap(value, 'HostConfig.Tmpfs'),
  LogConfig: (value) => {
    const log = objectAt(value, 'HostConfig.LogConfig');
    onlyKeys(log, ['Type', 'Config'], 'HostConfig.LogConfig');
    const type = optionalString(log.Type, 'HostConfig.LogConfig.Type');
    // Other drivers (syslog, gelf, fluentd, …) send the output to an address of the caller's choosing.
    if (!['', 'json-file', 'local', 'none'].includes(type)) throw new Refusal(`log driver ${type} not allowed`);
    onlyKeys(stringMap(log.Config, 'HostConfig.LogConfig.Config'), ['max-size', 'max-file', 'compress'], 'HostConfig.LogConfig.Config');
  },
  Mounts: (value, rules) => {
    if (value === undefined || value === null) return;
    if (!Array.isArray(value)) throw new Refusal('HostConfig.Mounts must be a list');
    for (const mount of value) checkMount(mount, rules);
  },
  Binds: (value) => {
    if (stringList(value, 'HostConfig.Binds').length > 0) throw new Refusal('bind mounts (HostConfig.Binds) are refused');
  },
  ExtraHosts: (value) => void stringList(value, 'HostConfig.ExtraHosts'),
};

/** Fields whose empty list does not mean "not set": [] unmasks every path Docker hides. */
const EMPTY_IS_A_VALUE = new Set(['MaskedPaths', 'ReadonlyPaths']);

const NO_NEW_PRIVILEGES = ['no-new-privileges:true', 'no-new-privileges=true', 'no-new-privileges'];

function capName(cap: string): string {
  return cap.trim().toUpperCase().replace(/^CAP_/, '');
}

/** `<prefix>-<name>-<id>-data`: a person's data volume, never an operator's (Spawner's own database). */
export function isPersonVolume(name: string, rules: CreateRules): boolean {
  return name.startsWith(`${rules.namePrefix}-`) && /^[a-z0-9][a-z0-9-]*-\d+-data$/.test(name);
}

function checkMount(value: Json, rules: CreateRules): void {
  const mount = objectAt(value, 'HostConfig.Mounts[]');
  // No VolumeOptions: its DriverConfig would create a missing volume with driver options that
  // bind a host path (type=none, o=bind, device=/).
  onlyKeys(mount, ['Type', 'Source', 'Target', 'ReadOnly', 'Consistency', 'TmpfsOptions'], 'HostConfig.Mounts[]');
  const type = optionalString(mount.Type, 'HostConfig.Mounts[].Type');
  const source = optionalString(mount.Source, 'HostConfig.Mounts[].Source');
  if (type === 'tmpfs') {
    if (source !== '') throw new Refusal('a tmpfs mount has no source');
    return;
  }
  if (type !== 'volume') throw new Refusal(`mounts of type ${type || '(none)'} are refused (only volume and tmpfs)`);
  if (mount.TmpfsOptions !== undefined) throw new Refusal('TmpfsOptions on a volume mount');
  if (!isPersonVolume(source, rules)) throw new Refusal(`volume ${source || '(anonymous)'} is not a person's data volume`);
}

function checkNetworking(body: JsonObject, labels: Record<string, string>): void {
  const host = objectAt(body.HostConfig, 'HostConfig');
  const mode = optionalString(host.NetworkMode, 'HostConfig.NetworkMode');
  const nudge = labels[NUDGE_LABEL] === 'true';
  if (mode === 'host' || mode.startsWith('container:')) throw new Refusal(`network mode ${mode} is refused`);
  if (mode === 'none' && !nudge) throw new Refusal('network mode none is only for the Traefik nudge');
  if (mode !== 'none' && nudge) throw new Refusal('the Traefik nudge runs without a network');
  const networking = objectAt(body.NetworkingConfig, 'NetworkingConfig');
  onlyKeys(networking, ['EndpointsConfig'], 'NetworkingConfig');
  for (const [network, endpoint] of Object.entries(objectAt(networking.EndpointsConfig, 'NetworkingConfig.EndpointsConfig'))) {
    const settings = objectAt(endpoint, `NetworkingConfig.EndpointsConfig.${network}`);
    onlyKeys(settings, ['Aliases'], `NetworkingConfig.EndpointsConfig.${network}`);
    stringList(settings.Aliases, `NetworkingConfig.EndpointsConfig.${network}.Aliases`);
  }
}

function checkUser(body: JsonObject): void {
  const user = optionalString(body.User, 'User').trim();
  const uid = user.split(':')[0]?.trim() ?? '';
  if (uid === '' || uid === 'root' || /^0+$/.test(uid)) throw new Refusal('containers must run as a non-root user (User)');
}

/** Refuses (throws Refusal) a create body or name that Spawner would not send. */
export function checkContainerCreate(body: Json, name: string, rules: CreateRules): void {
  if (!isObject(body)) throw new Refusal('the body must be a JSON object');
  onlyKeys(body, BODY_FIELDS, 'container create');
  if (!name.startsWith(`${rules.namePrefix}-`)) throw new Refusal(`container names must start with ${rules.namePrefix}-`);
  const host = objectAt(body.HostConfig, 'HostConfig');
  for (const [field, value] of Object.entries(host)) {
    const rule = HOST_CONFIG_RULES[field];
    if (rule) rule(value, rules);
    else if (EMPTY_IS_A_VALUE.has(field) ? value !== null : !isEmpty(value)) throw new Refusal(`HostConfig.${field} not allowed`);
  }
  // Required even when absent from the body: these rules are what "hardened" means.
  for (const field of ['Memory', 'PidsLimit', 'CapDrop', 'SecurityOpt'] as const) {
    if (host[field] === undefined) HOST_CONFIG_RULES[field]?.(undefined, rules);
  }
  if (typeof body.Image !== 'string' || body.Image === '') throw new Refusal('Image must be named');
  const labels = stringMap(body.Labels, 'Labels');
  if (labels[MANAGED_LABEL] !== 'true' && labels[NUDGE_LABEL] !== 'true') throw new Refusal(`the label ${MANAGED_LABEL}=true is required`);
  stringList(body.Env, 'Env');
  checkUser(body);
  checkNetworking(body, labels);
}
