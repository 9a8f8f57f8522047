// Gatekeepers for pages that need a logged-in person, and the absolute session lifetime.
import type { RequestHandler } from 'express';

export function requireLogin(loginPath: string): RequestHandler {
  return (req, res, next) => {
    if (req.isAuthenticated()) return next();
    if (req.method === 'GET') return res.redirect(303, loginPath);
    res.status(401);
    return res.render('errors/error', { title: 'Please log in', message: 'Your session has ended. Please log in again.', status: 401 });
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

/** Answers 405 with the methods a path does accept. */
export function methodNotAllowed(allowed: string[]): RequestHandler {
  return (_req, res) => {
    res.set('Allow', allowed.join(', ')).status(405);
    res.render('errors/error', { title: 'Method not allowed', message: 'This address does not accept that kind of request.', status: 405 });
  };
}
