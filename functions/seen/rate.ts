import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../core/clock';
import { ConfigError } from '../core/errors';

/** SEEN API 2.0 counts requests over 10 seconds ("up to 100 requests per 10 seconds"). */
export const SEEN_RATE_WINDOW_MS = 10_000;

/**
 * How far apart one invocation starts its requests so that, with at most `lanes` invocations at
 * once, no 10 s window holds more than `maxPer10s` requests: each lane gets floor(max / lanes) per
 * window, spaced a window over that (and 1 ms more, so even a window closed at both ends holds no
 * more).
 */
export function requestSpacingMs(maxPer10s: number, lanes: number): number {
  const perLane = Math.floor(maxPer10s / lanes);
  if (perLane < 1) throw new ConfigError(`SEEN_MAX_REQUESTS_PER_10S must be at least ${lanes}: the SEEN 2.0 consumer runs up to ${lanes} invocations at once`);
  return Math.ceil(SEEN_RATE_WINDOW_MS / perLane) + 1;
}

/**
 * Keeps SEEN 2.0's rate across instances with no shared state: the event source runs at most
 * `lanes` invocations at once (its maxConcurrency), and each invocation starts its requests at
 * least `spacingMs` apart, the first one `spacingMs` after the invocation began. Invocations that
 * never overlap can be put in at most `lanes` sequences (lanes); within one, an invocation begins
 * after the one before it ended, so after its last request started: every start in a lane is at
 * least `spacingMs` after the one before, whichever instance made it. A window of 10 s then holds
 * at most floor(max / lanes) starts per lane, `max` in all (requestSpacingMs). The state lives in
 * the invocation (AsyncLocalStorage), so the local runner's concurrent invocations of one handler
 * keep apart as Lambda's instances do.
 */
export class InvocationPacer {
  private readonly invocation = new AsyncLocalStorage<{ next: number }>();

  constructor(
    private readonly clock: Clock,
    readonly spacingMs: number,
  ) {}

  /** Runs one invocation: its first request starts no sooner than one spacing from now. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.invocation.run({ next: this.clock.now() + this.spacingMs }, work);
  }

  /** Waits until the invocation may start its next request, and books it. */
  async pace(): Promise<void> {
    const state = this.invocation.getStore();
    if (!state) throw new Error('InvocationPacer.pace outside run()');
    const now = this.clock.now();
    const start = Math.max(now, state.next);
    state.next = start + this.spacingMs;
    if (start > now) await this.clock.sleep(start - now);
  }
}
