import { type Clock, systemClock } from './clock';
import { DestinationConfigError, PermanentDeliveryError, RetryableDeliveryError, TooLargeDeliveryError } from './errors';
import { fetchTransport, nodeTransport, type Transport } from './http-transport';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
}

const defaultRetryPolicy: RetryPolicy = { retries: 4, baseDelayMs: 200, maxDelayMs: 20_000, timeoutMs: 10_000 };

/** Least time (ms) that must remain before a call's deadline for an attempt to be started at all. */
export const MIN_ATTEMPT_MS = 1_000;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Text, or bytes sent as they are (a CSV chunk cut from a file, never decoded and encoded again). */
  body?: string | Uint8Array;
  /**
   * Whether the URL is fixed by the deployment (true, the default) or names something of the
   * records (SEEN's campaign slug in the path): a 404 on a fixed endpoint is a configuration fault,
   * on a record's own path it refuses that record.
   */
  fixedEndpoint?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface AttemptInfo {
  /** Label safe to log: never the URL, which may carry a credential. */
  label: string;
  attempt: number;
  status?: number;
  error?: string;
  durationMs: number;
}

export interface HttpClientOptions {
  policy?: RetryPolicy;
  clock?: Clock;
  /** Calls through this `fetch` instead of `node:http` (tests stand a fake in for the network). */
  fetch?: typeof fetch;
  random?: () => number;
  /** Called after every attempt (the local runner prints one line per call; Lambdas log it). */
  onAttempt?: (info: AttemptInfo) => void;
  /** With `fetch`: builds the signal that aborts an attempt after `ms` (AbortSignal.timeout; tests record the ms). */
  timeoutSignal?: (ms: number) => AbortSignal;
}

export interface SendOptions {
  label: string;
  /**
   * Absolute time (clock ms) by which the call must be over: e.g. the Lambda's remaining time. No
   * attempt starts with less than MIN_ATTEMPT_MS left, and each attempt's timeout ends by it.
   */
  deadline?: number;
  /** Override the client's policy for this call (the SEEN budget, say, wants no in-process retry). */
  policy?: Partial<RetryPolicy>;
}

/** Appends a path to a base URL keeping the base's own path (`http://h/braze` + `users/track`). */
export function joinUrl(base: string, path: string): string {
  return new URL(path.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`).toString();
}

export const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/**
 * What a destination's answer means, in one place (SPEC section 4): `delivered` (2xx; records it
 * refused inside the body are the partner's to read), `refused` (400, 422 and other 4xx about the
 * content), `too-big` (413: split the call), `retryable` (408, 429, 5xx; timeouts and connection
 * errors too, which have no status), `config` (401, 403, 405, 407, 404 on a fixed endpoint, any 3xx:
 * a key or an endpoint is wrong, the records are not).
 */
export type AnswerClass = 'delivered' | 'refused' | 'too-big' | 'retryable' | 'config';

export function classifyAnswer(status: number, fixedEndpoint = true): AnswerClass {
  if (status >= 200 && status < 300) return 'delivered';
  if (status < 200 || (status >= 300 && status < 400)) return 'config';
  if (status === 401 || status === 403 || status === 405 || status === 407) return 'config';
  if (status === 404) return fixedEndpoint ? 'config' : 'refused';
  if (status === 413) return 'too-big';
  if (isRetryableStatus(status)) return 'retryable';
  return 'refused';
}

/**
 * How long the server asked us to wait, in ms, from `Retry-After` (seconds or HTTP date)
 * or, when `useRateLimitReset`, `X-RateLimit-Reset` (epoch seconds, as Braze sends it).
 * Undefined when neither is usable.
 */
export function serverRequestedDelay(headers: Headers, nowMs: number, useRateLimitReset = true): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }
  const reset = useRateLimitReset ? headers.get('x-ratelimit-reset') : null;
  if (reset) {
    const epochSeconds = Number(reset);
    if (Number.isFinite(epochSeconds)) return Math.max(0, epochSeconds * 1000 - nowMs);
  }
  return undefined;
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base * 2^attempt)). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

export class HttpClient {
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;
  private readonly transport: Transport;
  private readonly random: () => number;
  private readonly onAttempt?: (info: AttemptInfo) => void;

  constructor(private readonly options: HttpClientOptions = {}) {
    this.policy = options.policy ?? defaultRetryPolicy;
    this.clock = options.clock ?? systemClock;
    this.transport = options.fetch ? fetchTransport(options.fetch, options.timeoutSignal) : nodeTransport;
    this.random = options.random ?? Math.random;
    this.onAttempt = options.onAttempt;
  }

  /** The same client (clock, fetch, attempt reporting) with another retry policy: what a consumer hands `send`. */
  withPolicy(policy: Partial<RetryPolicy>): HttpClient {
    return new HttpClient({ ...this.options, policy: { ...this.policy, ...policy } });
  }

  /** The policy this client keeps to. */
  get retryPolicy(): Readonly<RetryPolicy> {
    return this.policy;
  }

  /**
   * Sends a request; redirects are never followed (a credential header must not leave for another
   * host). Retries 408/429/5xx, network errors and timeouts with backoff and jitter, honouring
   * Retry-After / X-RateLimit-Reset. Resolves with a 2xx response; throws what `classifyAnswer`
   * says otherwise: DestinationConfigError (3xx, 401, 403, 404 on a fixed endpoint),
   * TooLargeDeliveryError (413), PermanentDeliveryError (other 4xx), and RetryableDeliveryError
   * (carrying the delay the server asked for) once retries (or the deadline) run out. An error
   * thrown for an answer carries the answer's text as `responseText`, for the partner to read.
   * With a deadline, no attempt starts with less than MIN_ATTEMPT_MS left (the first one included:
   * it throws without calling fetch) and every attempt times out by the deadline.
   */
  async send(request: HttpRequest, options: SendOptions): Promise<HttpResponse> {
    const policy = { ...this.policy, ...options.policy };
    let lastError: RetryableDeliveryError | undefined;
    for (let attempt = 0; attempt <= policy.retries; attempt++) {
      const started = this.clock.now();
      const left = options.deadline === undefined ? Number.POSITIVE_INFINITY : options.deadline - started;
      if (left < MIN_ATTEMPT_MS) {
        throw lastError ?? new RetryableDeliveryError(`${options.label}: no time left before the deadline`);
      }
      let requestedDelay: number | undefined;
      try {
        const response = await this.transport(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          timeoutMs: Math.min(policy.timeoutMs, left),
        });
        const { text } = response;
        this.onAttempt?.({ label: options.label, attempt, status: response.status, durationMs: this.clock.now() - started });
        const answer = classifyAnswer(response.status, request.fixedEndpoint ?? true);
        const said = `${options.label} answered ${response.status}`;
        if (answer === 'delivered') return { status: response.status, headers: response.headers, text };
        // The answer's text rides on the error for the partner to read (a vendor code in a 400's body).
        const responseText = text;
        if (answer === 'config') {
          const why = response.status < 400 ? ': redirects are not followed' : '';
          throw new DestinationConfigError(`${said}${why}`, response.status, { responseText });
        }
        if (answer === 'too-big') throw new TooLargeDeliveryError(said, response.status, { responseText });
        if (answer === 'refused') throw new PermanentDeliveryError(said, response.status, { responseText });
        // Braze sends X-RateLimit-Reset on every answer; it says when to retry only on a 429.
        requestedDelay = serverRequestedDelay(response.headers, this.clock.now(), response.status === 429);
        lastError = new RetryableDeliveryError(said, response.status, { retryAfterMs: requestedDelay, responseText });
      } catch (error) {
        if (error instanceof PermanentDeliveryError || error instanceof DestinationConfigError) throw error;
        const reason = error instanceof Error ? error.name : 'unknown';
        this.onAttempt?.({ label: options.label, attempt, error: reason, durationMs: this.clock.now() - started });
        lastError = new RetryableDeliveryError(`${options.label} failed: ${reason}`, undefined, { cause: error });
      }
      if (attempt === policy.retries) break;
      const delay = requestedDelay ?? backoffDelay(attempt, policy, this.random);
      if (delay > policy.maxDelayMs) break; // the server asks for more than we may wait here: let the queue redeliver later
      // Do not wait for an attempt that the deadline would not let start.
      if (options.deadline !== undefined && this.clock.now() + delay + MIN_ATTEMPT_MS > options.deadline) break;
      await this.clock.sleep(delay);
    }
    throw lastError ?? new RetryableDeliveryError(`${options.label} failed`);
  }
}
