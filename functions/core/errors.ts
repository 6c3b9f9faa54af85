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

/** Configuration or environment is wrong: fail fast at cold start, naming the variable. */
export class ConfigError extends BridgeError {}

/** What a destination's answer failed with: its status, and its text for the partner to read. */
interface DeliveryErrorOptions {
  cause?: unknown;
  /**
   * The destination's answer, for the partner to read: a vendor may say in the body of a 400 that
   * the fault is ours (Sendbird's code 403100, "permission denied") or which records it refused.
   * Never logged: it may hold PII.
   */
  responseText?: string;
}

/** The base of the delivery faults below (functions/core/http.ts `classifyAnswer` says which is which). */
export class DeliveryError extends BridgeError {
  readonly responseText?: string;

  constructor(
    message: string,
    readonly status?: number,
    options?: DeliveryErrorOptions,
  ) {
    super(message, options);
    this.responseText = options?.responseText;
  }
}

/** A downstream call failed in a way worth retrying later (429, 5xx, network, timeout). */
export class RetryableDeliveryError extends DeliveryError {
  /** How long the destination asked us to wait (Retry-After, X-RateLimit-Reset on a 429), if it said. */
  readonly retryAfterMs?: number;

  constructor(message: string, status?: number, options?: DeliveryErrorOptions & { retryAfterMs?: number }) {
    super(message, status, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * A destination refused the records of a call for good (400, 422 and other 4xx that are about the
 * content): retrying the same records will not help. When the call combined several records, some
 * may be innocent: the consumer bisects it to find the refused ones.
 */
export class PermanentDeliveryError extends DeliveryError {}

/** The destination refused a call as too big (413): its halves may each be accepted. */
export class TooLargeDeliveryError extends PermanentDeliveryError {}

/**
 * The destination refused our credentials or our endpoint (401, 403, 404 on a fixed endpoint, 405,
 * any 3xx, which is never followed): a fault of the deployment, not of the records. Nothing is
 * parked for it: the messages wait, the secret is read afresh, and an alarm fires.
 */
export class DestinationConfigError extends DeliveryError {}
