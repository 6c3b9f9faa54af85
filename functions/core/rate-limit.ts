import type { Clock } from './clock';

/**
 * Spaces the starts of calls so that at most `callsPerSecond` start in any second: each start is
 * at least 1000 / callsPerSecond ms after the one before. `await pace()` before each call. One
 * pacer per process (a consumer invocation, a job step); the clock is injectable, so tests check
 * the spacing without sleeping.
 */
export function createPacer(callsPerSecond: number | undefined, clock: Clock): () => Promise<void> {
  let nextStart = 0;
  return async () => {
    if (!callsPerSecond) return;
    const now = clock.now();
    const start = Math.max(now, nextStart);
    nextStart = start + 1000 / callsPerSecond;
    if (start > now) await clock.sleep(start - now);
  };
}
