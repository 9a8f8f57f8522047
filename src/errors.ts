// The error types Spawner throws. Each has a status and a stable code; one middleware
// (middleware/errors.ts) turns them into a page, `{"error": code, "message": text}` or plain text.
// Handlers throw (or pass to next) and never write a 4xx or 5xx response by hand.

/** A page to render instead of the generic error page: the form again, with its field messages. */
export interface ErrorPage {
  view: string;
  locals: Record<string, unknown>;
}

export interface AppErrorOptions {
  cause?: unknown;
  /** Replaces the default text shown to the person. */
  publicMessage?: string;
  page?: ErrorPage;
  /** Headers the answer carries (Allow, Retry-After). */
  headers?: Record<string, string>;
  /** Title of the generic error page. */
  title?: string;
  /** Answer JSON whatever the Accept header says (a program refused by the access check). */
  json?: boolean;
}

export class AppError extends Error {
  readonly status: number = 500;
  readonly code: string = 'internal_error';
  readonly page: ErrorPage | undefined;
  readonly headers: Record<string, string>;
  readonly title: string | undefined;
  readonly json: boolean;
  private readonly shown: string | undefined;

  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.page = options.page;
    this.headers = options.headers ?? {};
    this.title = options.title;
    this.json = options.json ?? false;
    this.shown = options.publicMessage;
  }

  /** Safe to show to the person; the message of a plain Error never is. */
  get publicMessage(): string {
    return this.shown ?? this.defaultMessage();
  }

  protected defaultMessage(): string {
    return 'Something went wrong on our side.';
  }
}

/** What a person typed does not pass the rules; `fields` has a message per form field. */
export class ValidationError extends AppError {
  override readonly status = 422;
  override readonly code = 'invalid_input';
  constructor(
    readonly fields: Record<string, string>,
    options: AppErrorOptions = {},
  ) {
    super(Object.values(fields).join(' '), options);
  }
  protected override defaultMessage(): string {
    return this.message;
  }
}

/** The request itself is malformed (a parser refused it). */
export class BadRequest extends AppError {
  override readonly status = 400;
  override readonly code = 'bad_request';
  protected override defaultMessage(): string {
    return 'This request could not be understood.';
  }
}

/** No session, or the login did not match. */
export class Unauthorized extends AppError {
  override readonly status = 401;
  override readonly code: string = 'login_required';
  protected override defaultMessage(): string {
    return 'Your session has ended. Please log in again.';
  }
}

export class LoginFailed extends Unauthorized {
  override readonly code = 'login_failed';
  protected override defaultMessage(): string {
    return 'That username or password is not right.';
  }
}

/** A program's bearer token is missing or wrong (/metrics; the API later). Always JSON. */
export class TokenRequired extends Unauthorized {
  override readonly code = 'token_required';
  constructor(message: string) {
    super(message, { json: true, headers: { 'WWW-Authenticate': 'Bearer' } });
  }
  protected override defaultMessage(): string {
    return 'A valid bearer token is required.';
  }
}

export class Forbidden extends AppError {
  override readonly status = 403;
  override readonly code: string = 'forbidden';
  protected override defaultMessage(): string {
    return 'This request was refused.';
  }
}

/** The access check: this person may not reach this service (or there is no such service: a stranger cannot tell). */
export class AccessDenied extends Forbidden {
  override readonly code = 'access_denied';
  protected override defaultMessage(): string {
    return 'This service is not yours, and its owner has not shared it with you.';
  }
}

/** The callback's one-time code is unknown, spent, expired or for another service. */
export class AccessCodeInvalid extends Forbidden {
  override readonly code = 'access_code_invalid';
  protected override defaultMessage(): string {
    return 'This sign-in link has expired or was used already. Open the service again.';
  }
}

export class CsrfFailed extends Forbidden {
  override readonly code = 'csrf_failed';
  protected override defaultMessage(): string {
    return 'This form has expired or did not come from this site. Please reload the page and try again.';
  }
}

export class NotFound extends AppError {
  override readonly status = 404;
  override readonly code: string = 'not_found';
  protected override defaultMessage(): string {
    return 'There is nothing here.';
  }
}

export class MethodNotAllowed extends AppError {
  override readonly status = 405;
  override readonly code = 'method_not_allowed';
  constructor(allowed: readonly string[]) {
    super(`allowed: ${allowed.join(', ')}`, { headers: { Allow: allowed.join(', ') }, title: 'Method not allowed' });
  }
  protected override defaultMessage(): string {
    return 'This address does not accept that kind of request.';
  }
}

export class Conflict extends AppError {
  override readonly status = 409;
  override readonly code = 'conflict';
}

export class PayloadTooLarge extends AppError {
  override readonly status = 413;
  override readonly code = 'payload_too_large';
  protected override defaultMessage(): string {
    return 'What you sent is too large.';
  }
}

/** A rate limit or a capacity cap was reached; `retryAfterSeconds` tells when to try again. */
export class TooManyRequests extends AppError {
  override readonly status = 429;
  override readonly code = 'rate_limited';
  constructor(message: string, retryAfterSeconds?: number) {
    super(message, {
      publicMessage: message,
      title: 'Too many attempts',
      ...(retryAfterSeconds !== undefined ? { headers: { 'Retry-After': String(retryAfterSeconds) } } : {}),
    });
  }
}

/** Spawner cannot serve this right now (a service asleep for bots, a wake that failed). */
export class ServiceUnavailable extends AppError {
  override readonly status = 503;
  override readonly code: string = 'unavailable';
  constructor(code: string, message: string, retryAfterSeconds?: number, options: AppErrorOptions = {}) {
    super(message, {
      publicMessage: message,
      ...options,
      ...(retryAfterSeconds !== undefined ? { headers: { 'Retry-After': String(retryAfterSeconds) } } : {}),
    });
    this.code = code;
  }
}

/** A person's service did not answer the forwarded request, or answered something unusable. */
export class ServiceUnreachable extends AppError {
  override readonly status = 502;
  override readonly code = 'service_unreachable';
  protected override defaultMessage(): string {
    return 'The service did not answer. Please reload.';
  }
}

/** The Docker engine could not be reached or timed out. */
export class DockerUnavailable extends AppError {
  override readonly status = 503;
  override readonly code = 'docker_unavailable';
  protected override defaultMessage(): string {
    return 'The container engine is not reachable right now. Please try again in a moment.';
  }
}

/** Docker answered, but refused what Spawner asked (missing image, missing network, …). */
export class ContainerError extends AppError {
  override readonly status = 502;
  override readonly code = 'container_error';
  constructor(
    message: string,
    readonly publicReason: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  protected override defaultMessage(): string {
    return this.publicReason;
  }
}
