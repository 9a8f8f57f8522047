// The end of the middleware chain: 404 for unknown addresses, and one error handler that maps
// every error to a status and a page (or JSON), logs it, and never shows a stack trace.
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { AppError } from '../errors.js';

function wantsJson(req: Request): boolean {
  return req.path === '/health' || req.path.startsWith('/api/') || req.accepts(['html', 'json']) === 'json';
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404);
  if (wantsJson(req)) return res.json({ error: 'not_found', message: 'There is nothing here.' });
  return res.render('errors/error', { title: 'Page not found', message: 'There is nothing at this address.', status: 404 });
};

interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  code?: string;
}

/** Status and a message safe to show, for our own errors and for those of Express' parsers. */
function describe(error: unknown): { status: number; message: string } {
  if (error instanceof AppError) return { status: error.status, message: error.publicMessage };
  const e = (error ?? {}) as HttpishError;
  const status = e.status ?? e.statusCode;
  if (e.code === 'EBADCSRFTOKEN')
    return { status: 403, message: 'This form has expired or did not come from this site. Please reload the page and try again.' };
  if (e.type === 'entity.too.large') return { status: 413, message: 'What you sent is too large.' };
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, message: 'This request could not be understood.' };
  return { status: 500, message: 'Something went wrong on our side. It has been logged; please try again.' };
}

export const errorHandler: ErrorRequestHandler = (error, req, res, next) => {
  const { status, message } = describe(error);
  if (status >= 500) req.log?.error({ err: error }, 'request failed');
  else req.log?.info({ status, reason: (error as Error)?.message }, 'request refused');
  if (res.headersSent) return next(error);
  res.status(status);
  if (wantsJson(req)) return res.json({ error: status >= 500 ? 'internal_error' : 'request_error', message });
  return res.render(
    'errors/error',
    { title: status >= 500 ? 'Something went wrong' : 'Request refused', message, status },
    (renderError, html) => {
      // If even the error page fails, answer in plain text rather than with a stack trace.
      if (renderError) return res.type('text/plain').send(message);
      return res.send(html);
    },
  );
};
