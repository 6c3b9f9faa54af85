import { type Clock, systemClock } from './clock';
import { PermanentDeliveryError, RetryableDeliveryError } from './errors';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 4, baseDelayMs: 200, maxDelayMs: 20_000, timeoutMs: 10_000 };

/** Least time (ms) that must remain before a call's deadline for an attempt to be started at all. */
export const MIN_ATTEMPT_MS = 1_000;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
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
  fetch?: typeof fetch;
  random?: () => number;
  /** Called after every attempt (the local runner prints one line per call; Lambdas log it). */
  onAttempt?: (info: AttemptInfo) => void;
  /** Builds the signal that aborts an attempt after `ms` (AbortSignal.timeout; tests record the ms). */
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
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  private readonly onAttempt?: (info: AttemptInfo) => void;
  private readonly timeoutSignal: (ms: number) => AbortSignal;

  constructor(options: HttpClientOptions = {}) {
    this.policy = options.policy ?? defaultRetryPolicy;
    this.clock = options.clock ?? systemClock;
    this.fetchImpl = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
    this.onAttempt = options.onAttempt;
    this.timeoutSignal = options.timeoutSignal ?? ((ms) => AbortSignal.timeout(ms));
  }

  /**
   * Sends a request; retries 408/429/5xx, network errors and timeouts with backoff and jitter,
   * honouring Retry-After / X-RateLimit-Reset. Resolves with a 2xx/3xx response; throws
   * PermanentDeliveryError on other 4xx and RetryableDeliveryError once retries (or the deadline) run out.
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
        const response = await this.fetchImpl(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          signal: this.timeoutSignal(Math.min(policy.timeoutMs, left)),
        });
        const text = await response.text();
        this.onAttempt?.({ label: options.label, attempt, status: response.status, durationMs: this.clock.now() - started });
        if (response.status < 400) return { status: response.status, headers: response.headers, text };
        if (!isRetryableStatus(response.status)) {
          throw new PermanentDeliveryError(`${options.label} answered ${response.status}`, response.status);
        }
        lastError = new RetryableDeliveryError(`${options.label} answered ${response.status}`, response.status);
        // Braze sends X-RateLimit-Reset on every answer; it says when to retry only on a 429.
        requestedDelay = serverRequestedDelay(response.headers, this.clock.now(), response.status === 429);
      } catch (error) {
        if (error instanceof PermanentDeliveryError) throw error;
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
