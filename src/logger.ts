// The one structured logger. Secrets (passwords, cookies, tokens) are redacted wherever they
// appear in a logged object, so a careless log call cannot leak them.
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'secretKey',
  '*.secretKey',
  'databaseUrl',
  '*.databaseUrl',
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
];

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'spawner' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
