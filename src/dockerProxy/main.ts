#!/usr/bin/env node
// Entry point of Spawner's Docker API proxy (`node dist/src/dockerProxy/main.js`, the compose
// file's socket-proxy profile): reads its settings, listens on TCP or a unix socket and speaks to the Docker socket.
// It is its own process so that the socket lives only here, never in Spawner's container.
import { rmSync } from 'node:fs';
import { createLogger } from '../logger.js';
import { loadProxyConfig, ProxyConfigError, type ProxyConfig } from './config.js';
import { createDockerProxy } from './server.js';

function fail(message: string): never {
  process.stderr.write(`spawner-docker-proxy: ${message}\n`);
  process.exit(1);
}

function main(): void {
  let config: Readonly<ProxyConfig>;
  try {
    config = loadProxyConfig(process.env);
  } catch (error) {
    if (error instanceof ProxyConfigError) fail(error.message);
    throw error;
  }
  const logger = createLogger({ level: config.logLevel }).child({ component: 'docker-proxy' });
  const server = createDockerProxy({ rules: config.rules, socketPath: config.socketPath, maxBodyBytes: config.maxBodyBytes, logger });
  const where = 'path' in config.listen ? `unix://${config.listen.path}` : `${config.listen.host}:${config.listen.port}`;
  server.once('error', (error) => fail(`cannot listen on ${where}: ${error.message}`));
  const listening = () => {
    logger.info(
      {
        listen: where,
        socket: config.socketPath,
        exec: config.rules.allowExec,
        capAdd: config.rules.capAdd,
      },
      'Docker API proxy listening',
    );
  };
  if ('path' in config.listen) {
    // A socket file left by a process that died would make listen fail with EADDRINUSE.
    rmSync(config.listen.path, { force: true });
    server.listen(config.listen.path, listening);
  } else {
    server.listen(config.listen.port, config.listen.host, listening);
  }
  const stop = (signal: string) => {
    logger.info({ signal }, 'Docker API proxy stopping');
    // Event and log streams never end by themselves; their clients reconnect.
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main();
