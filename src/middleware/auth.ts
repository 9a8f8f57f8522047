// Gatekeepers for pages that need a logged-in person, and the absolute session lifetime.
import type { RequestHandler } from 'express';
import { Unauthorized } from '../errors.js';

export function requireLogin(loginPath: string): RequestHandler {
  return (req, res, next) => {
    if (req.isAuthenticated()) return next();
    // A page: go and log in. A form sent after the session ended: say so.
    if (req.method === 'GET') return res.redirect(303, loginPath);
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
