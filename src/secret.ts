// The session secret. Production must configure one (config refuses to start without it); in
// development one is generated once and kept beside the database, readable only by its owner.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

export function resolveSessionSecret(config: Pick<Config, 'secretKey' | 'env' | 'databasePath'>, logger: Logger): string {
  if (config.secretKey) return config.secretKey;
  if (config.env === 'production') throw new Error('SECRET_KEY is required in production');
  const file = join(dirname(resolve(config.databasePath)), 'secret_key');
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) return stored;
  }
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  logger.warn({ file }, 'SECRET_KEY is not set: generated a development secret. Set SECRET_KEY before running in production.');
  return secret;
}
