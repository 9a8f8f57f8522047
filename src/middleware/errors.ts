// The end of the middleware chain: 404 for unknown addresses, and the one error handler. Every
// 4xx and 5xx Spawner answers passes through here: it maps the error to a status and a stable
// code, logs it, and answers as the client asked: a page (the generic one, or the error's own,
// e.g. a form with its field messages), `{"error": code, "message": text}`, or plain text. Never
// a stack trace.
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { AppError, BadRequest, CsrfFailed, NotFound, PayloadTooLarge, ServiceUnavailable } from '../errors.js';

type Answer = 'page' | 'json' | 'text';

function answerKind(req: Request): Answer {
  if (req.path === '/health' || req.path.startsWith('/api/') || req.baseUrl.endsWith('/api')) return 'json';
  const kind = req.accepts(['html', 'json', 'text']);
  return kind === 'json' ? 'json' : kind === 'html' ? 'page' : 'text';
}

export const notFound: RequestHandler = (req, _res, next) =>
  // Pages say where; programs get the same words as every other not_found.
  next(new NotFound('no route', answerKind(req) === 'page' ? { publicMessage: 'There is nothing at this address.' } : {}));

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  code?: string;
}

/** Our own errors as they are; those of Express' parsers and csrf-sync as the AppError they mean. */
function asAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as HttpishError;
  const status = e.status ?? e.statusCode;
  if (e.code === 'EBADCSRFTOKEN') return new CsrfFailed('csrf token missing or wrong', { cause: error });
  // body-parser: entity.too.large, parameters.too.many (both 413).
  if (e.type === 'entity.too.large' || status === 413) return new PayloadTooLarge('body too large', { cause: error });
  if (typeof status === 'number' && status >= 400 && status < 500) return new BadRequest('parser refused the request', { cause: error });
  return new AppError('unexpected error', {
    cause: error,
    publicMessage: 'Something went wrong on our side. It has been logged; please try again.',
  });
}

const TITLES: Record<number, string> = { 401: 'Please log in', 404: 'Page not found' };

export const errorHandler: ErrorRequestHandler = (raw, req, res, next) => {
  const error = asAppError(raw);
  const { status, code } = error;
  // A sleeping service telling a bot so is no failure of Spawner's (and must not flood the error log).
  if (status >= 500 && !(error instanceof ServiceUnavailable)) req.log?.error({ err: raw }, 'request failed');
  else req.log?.info({ status, code, reason: (raw as Error)?.message }, 'request refused');
  if (res.headersSent) return next(raw);
  res.status(status).set(error.headers);
  const message = error.publicMessage;
  const kind = error.json ? 'json' : answerKind(req);
  if (kind === 'json') return res.json({ error: code, message });
  if (kind === 'text') return res.type('text/plain').send(`${message}\n`);
  const title = error.title ?? TITLES[status] ?? (status >= 500 ? 'Something went wrong' : 'Request refused');
  const view = error.page?.view ?? 'errors/error';
  const locals = error.page?.locals ?? { title, message, status };
  return res.render(view, locals, (renderError, html) => {
    // If even the error page fails, answer in plain text rather than with a stack trace.
    if (renderError) {
      req.log?.error({ err: renderError }, 'error page failed to render');
      return res.type('text/plain').send(`${message}\n`);
    }
    return res.send(html);
  });
};
