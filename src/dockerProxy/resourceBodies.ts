// The body rules for what the proxy lets Spawner create besides containers: networks (the ingress
// network and one per person), volumes (a person's data) and the one exec the connection probe runs.
// Each allows the fields Spawner's engine (src/containers/docker/engine.ts) sends and no other.
import { MANAGED_LABEL } from '../containers/labels.js';
import { MANAGED_NETWORK_LABEL } from '../containers/docker/prepare.js';
import { ICC_OPTION } from '../containers/docker/engine.js';
import { isPersonVolume, type CreateRules } from './containerCreate.js';
import {
  isObject,
  objectAt,
  onlyKeys,
  optionalBoolean,
  optionalString,
  Refusal,
  stringList,
  stringMap,
  type Json,
  type JsonObject,
} from './shape.js';

/** The connection probe's command (src/containers/docker/connectionProbe.ts), the only exec allowed. */
export const PROBE_COMMAND = ['cat', '/proc/net/tcp', '/proc/net/tcp6'] as const;

function bodyObject(body: Json): JsonObject {
  if (!isObject(body)) throw new Refusal('the body must be a JSON object');
  return body;
}

/**
 * A bridge network carrying Spawner's label, optionally internal and with its own subnet; of the
 * driver options only the one that switches container-to-container traffic off (isolation).
 */
export function checkNetworkCreate(body: Json): void {
  const network = bodyObject(body);
  onlyKeys(network, ['Name', 'Driver', 'CheckDuplicate', 'Labels', 'Internal', 'IPAM', 'EnableIPv6', 'Options'], 'network create');
  const options = stringMap(network.Options, 'Options');
  for (const [key, value] of Object.entries(options)) {
    if (key !== ICC_OPTION || value !== 'false') throw new Refusal(`network option ${key}=${value} not allowed (only ${ICC_OPTION}=false)`);
  }
  if (!optionalString(network.Name, 'Name')) throw new Refusal('the network needs a name');
  const driver = optionalString(network.Driver, 'Driver');
  if (driver !== '' && driver !== 'bridge') throw new Refusal(`network driver ${driver} not allowed (only bridge)`);
  optionalBoolean(network.CheckDuplicate, 'CheckDuplicate');
  optionalBoolean(network.Internal, 'Internal');
  optionalBoolean(network.EnableIPv6, 'EnableIPv6');
  const labels = stringMap(network.Labels, 'Labels');
  if (labels[MANAGED_LABEL] !== 'true' && labels[MANAGED_NETWORK_LABEL] !== 'true') {
    throw new Refusal(`the label ${MANAGED_LABEL}=true (or ${MANAGED_NETWORK_LABEL}=true) is required`);
  }
  const ipam = objectAt(network.IPAM, 'IPAM');
  onlyKeys(ipam, ['Driver', 'Config'], 'IPAM');
  const ipamDriver = optionalString(ipam.Driver, 'IPAM.Driver');
  if (ipamDriver !== '' && ipamDriver !== 'default') throw new Refusal(`IPAM driver ${ipamDriver} not allowed`);
  if (ipam.Config !== undefined && ipam.Config !== null && !Array.isArray(ipam.Config)) throw new Refusal('IPAM.Config must be a list');
  for (const pool of (ipam.Config ?? []) as Json[]) {
    const config = objectAt(pool, 'IPAM.Config[]');
    onlyKeys(config, ['Subnet', 'Gateway', 'IPRange'], 'IPAM.Config[]');
    for (const key of ['Subnet', 'Gateway', 'IPRange']) optionalString(config[key], `IPAM.Config[].${key}`);
  }
}

/** Attaching a container (Traefik, Spawner, a person's workload) by name, with aliases at most. */
export function checkNetworkConnect(body: Json): void {
  const connect = bodyObject(body);
  onlyKeys(connect, ['Container', 'EndpointConfig'], 'network connect');
  if (!optionalString(connect.Container, 'Container')) throw new Refusal('network connect needs a Container');
  const endpoint = objectAt(connect.EndpointConfig, 'EndpointConfig');
  onlyKeys(endpoint, ['Aliases'], 'EndpointConfig');
  stringList(endpoint.Aliases, 'EndpointConfig.Aliases');
}

export function checkNetworkDisconnect(body: Json): void {
  const disconnect = bodyObject(body);
  onlyKeys(disconnect, ['Container', 'Force'], 'network disconnect');
  if (!optionalString(disconnect.Container, 'Container')) throw new Refusal('network disconnect needs a Container');
  optionalBoolean(disconnect.Force, 'Force');
}

/** A person's data volume on the local driver, with Spawner's label and no driver options. */
export function checkVolumeCreate(body: Json, rules: CreateRules): void {
  const volume = bodyObject(body);
  onlyKeys(volume, ['Name', 'Driver', 'Labels'], 'volume create');
  const name = optionalString(volume.Name, 'Name');
  if (!isPersonVolume(name, rules)) throw new Refusal(`volume ${name || '(anonymous)'} is not named like a person's data volume`);
  const driver = optionalString(volume.Driver, 'Driver');
  if (driver !== '' && driver !== 'local') throw new Refusal(`volume driver ${driver} not allowed (only local)`);
  if (stringMap(volume.Labels, 'Labels')[MANAGED_LABEL] !== 'true') throw new Refusal(`the label ${MANAGED_LABEL}=true is required`);
}

/** Only the connection probe's `cat`, as the container's own user, without a terminal or input. */
export function checkExecCreate(body: Json): void {
  const exec = bodyObject(body);
  onlyKeys(exec, ['Cmd', 'AttachStdout', 'AttachStderr', 'AttachStdin', 'Tty'], 'exec create');
  const cmd = stringList(exec.Cmd, 'Cmd');
  if (cmd.length !== PROBE_COMMAND.length || cmd.some((part, i) => part !== PROBE_COMMAND[i])) {
    throw new Refusal(`only the connection probe's exec is allowed (${PROBE_COMMAND.join(' ')})`);
  }
  optionalBoolean(exec.AttachStdout, 'AttachStdout');
  optionalBoolean(exec.AttachStderr, 'AttachStderr');
  if (optionalBoolean(exec.AttachStdin, 'AttachStdin') || optionalBoolean(exec.Tty, 'Tty')) {
    throw new Refusal('the probe exec has no input and no terminal');
  }
}

/** dockerode sends its own options along ({hijack, stdin}); Docker reads Detach and Tty. */
export function checkExecStart(body: Json): void {
  const start = bodyObject(body);
  onlyKeys(start, ['Detach', 'Tty', 'hijack', 'stdin'], 'exec start');
  if (optionalBoolean(start.Tty, 'Tty') || optionalBoolean(start.stdin, 'stdin'))
    throw new Refusal('the probe exec has no input and no terminal');
  optionalBoolean(start.Detach, 'Detach');
}
