// Who may read /metrics. Today one shared secret, METRICS_TOKEN, sent as `Authorization: Bearer`;
// the API-token work adds tokens with the `metrics:read` scope by replacing this one function.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** 'off': nothing can read metrics (no token configured), so /metrics does not exist (404). */
export type MetricsVerdict = 'allowed' | 'refused' | 'off';
export type MetricsAuthorizer = (req: Request) => MetricsVerdict;

/** The token from `Authorization: Bearer <token>` (never from the query string). */
export function bearerToken(req: Pick<Request, 'get'>): string | undefined {
  const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

/** Compares digests, so neither the token's length nor its content leaks through timing. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function metricsTokenCheck(token: string | undefined): MetricsAuthorizer {
  return (req) => {
    if (!token) return 'off';
    const given = bearerToken(req);
    return given !== undefined && sameSecret(given, token) ? 'allowed' : 'refused';
  };
}
