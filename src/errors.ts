// The error types Spawner throws. One middleware (middleware/errors.ts) turns them into pages or
// JSON; handlers throw and never write 500 responses by hand.

export class AppError extends Error {
  readonly status: number = 500;
  /** Safe to show to the person; the message of a plain Error never is. */
  get publicMessage(): string {
    return 'Something went wrong on our side.';
  }
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  override readonly status = 400;
  constructor(readonly fields: Record<string, string>) {
    super(Object.values(fields).join(' '));
  }
  override get publicMessage(): string {
    return this.message;
  }
}

export class NotFound extends AppError {
  override readonly status = 404;
  override get publicMessage(): string {
    return 'There is nothing here.';
  }
}

export class Forbidden extends AppError {
  override readonly status = 403;
  override get publicMessage(): string {
    return 'This request was refused.';
  }
}

export class Conflict extends AppError {
  override readonly status = 409;
}

/** The Docker engine could not be reached or timed out. */
export class DockerUnavailable extends AppError {
  override readonly status = 503;
  override get publicMessage(): string {
    return 'The container engine is not reachable right now. Please try again in a moment.';
  }
}

/** Docker answered, but refused what Spawner asked (missing image, missing network, …). */
export class ContainerError extends AppError {
  override readonly status = 502;
  constructor(
    message: string,
    readonly publicReason: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override get publicMessage(): string {
    return this.publicReason;
  }
}
