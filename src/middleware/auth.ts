// Gatekeepers for pages that need a logged-in person, the absolute session lifetime, and the
// rule for where a login may send the person afterwards.
import type { RequestHandler } from 'express';
import { Unauthorized } from '../errors.js';
import { isLocalPath } from '../addressing.js';

/** `comeBack`: after the login the person returns to the page they asked for (login's `next`). */
export function requireLogin(loginPath: string, options: { comeBack?: boolean } = {}): RequestHandler {
  return (req, res, next) => {
    if (req.isAuthenticated()) return next();
    // A page: go and log in. A form sent after the session ended: say so.
    if (req.method === 'GET')
      return res.redirect(303, options.comeBack ? `${loginPath}?next=${encodeURIComponent(req.originalUrl)}` : loginPath);
    return next(new Unauthorized('no session'));
  };
}

/** Ends sessions older than maxAgeMs, however active they were (the idle limit is the cookie's). */
export function enforceSessionLifetime(maxAgeMs: number, now: () => number = Date.now): RequestHandler {
  return (req, _res, next) => {
    const createdAt = req.session?.createdAt;
    if (createdAt !== undefined && now() - createdAt > maxAgeMs) {
      // A fresh, empty session: the person is logged out and the old id is gone from the store.
      req.session.regenerate((error) => next(error));
      return;
    }
    next();
  };
}

/** A login's `next`: only a path on Spawner's own pages (never `//host`, a backslash or another site). */
export function safeLocalNext(next: unknown, base: string): string | undefined {
  if (typeof next !== 'string' || next.length > 4096) return undefined;
  if (!next.startsWith(`${base}/`) || !isLocalPath(next)) return undefined;
  return next;
}
