import { describe, expect, it } from 'vitest';
import { isPostgresUrl, redactDatabaseUrl } from '../../src/db/pg/url.js';
import { createLogger } from '../../src/logger.js';

describe('DATABASE_URL in logs', () => {
  it('when a URL carries a password (in the user part or the query), then the redacted form keeps everything else', () => {
    expect(redactDatabaseUrl('postgres://spawner:s3cret@db.internal:5432/spawner')).toBe('postgres://spawner:***@db.internal:5432/spawner');
    expect(redactDatabaseUrl('postgresql://db/spawner?password=s3cret&sslmode=require')).toBe(
      'postgresql://db/spawner?password=***&sslmode=***',
    );
    expect(redactDatabaseUrl('postgres://db/spawner')).toBe('postgres://db/spawner');
    expect(redactDatabaseUrl('not a url s3cret')).not.toContain('s3cret');
  });

  it('when the config object is logged, then the URL is not in the line', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
    logger.info({ config: { databaseUrl: 'postgres://spawner:s3cret@db/spawner' } }, 'config');
    expect(lines.join('')).not.toContain('s3cret');
  });

  it('when a URL is postgres:// or postgresql://, then it is accepted, anything else is not', () => {
    expect(isPostgresUrl('postgres://u:p@h/d')).toBe(true);
    expect(isPostgresUrl('postgresql:///spawner?host=/run/postgresql')).toBe(true);
    expect(isPostgresUrl('mysql://h/d')).toBe(false);
    expect(isPostgresUrl('/data/spawner.db')).toBe(false);
  });
});
