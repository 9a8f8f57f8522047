// When a stored session ends, the same on every dialect: the cookie's own expiry when it has one,
// else its maxAge (or a day) from now.
import type session from 'express-session';

const DEFAULT_TTL_MS = 24 * 3600 * 1000;

export function sessionExpiry(data: session.SessionData, now: number): number {
  const expires = data.cookie?.expires;
  if (expires) return new Date(expires).getTime();
  return now + (data.cookie?.maxAge ?? DEFAULT_TTL_MS);
}
