// One-shot messages carried across a redirect in the session.
import type { Request, RequestHandler } from 'express';

export type FlashType = 'success' | 'error' | 'info';

export function flash(req: Request, type: FlashType, text: string): void {
  if (!req.session) return;
  req.session.flash = [...(req.session.flash ?? []), { type, text }];
}

/** Moves pending messages into res.locals for the next page rendered, and forgets them. */
export const exposeFlash: RequestHandler = (req, res, next) => {
  const pending = req.session?.flash;
  res.locals.flash = pending ?? [];
  if (pending && req.method === 'GET') delete req.session.flash;
  next();
};
