/**
 * One base error; each subclass says how the edge answers it. Client faults carry a
 * message fit for the sender (it names the field, never a value); everything else is
 * answered as a bare 500 so no internals leak.
 */
export class BridgeError extends Error {
  readonly statusCode: number = 500;
  /** Whether the message may be shown to the caller. */
  readonly expose: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface FieldIssue {
  /** Dotted path to the failing field, e.g. `[0].email` or `lytics_to_braze_audience[3].external_id`. */
  path: string;
  message: string;
}

export class ValidationError extends BridgeError {
  override readonly statusCode = 400;
  override readonly expose = true;
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class AuthenticationError extends BridgeError {
  override readonly statusCode = 401;
  override readonly expose = true;
}

export class PayloadTooLargeError extends BridgeError {
  override readonly statusCode = 413;
  override readonly expose = true;
}

export class NotFoundError extends BridgeError {
  override readonly statusCode = 404;
  override readonly expose = true;
}

/** Configuration or environment is wrong: fail fast at cold start, naming the variable. */
export class ConfigError extends BridgeError {}

/** A downstream call failed in a way worth retrying later (429, 5xx, network, timeout). */
export class RetryableDeliveryError extends BridgeError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A downstream call was refused for good (4xx other than 408/429): retrying will not help. */
export class PermanentDeliveryError extends BridgeError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
