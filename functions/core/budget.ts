/**
 * How many calls one scheduled run may make so that no window of `windowSeconds` ever holds more
 * than `maxCalls`, whatever the runs' timing: runs start at least `intervalSeconds` apart and a
 * scheduler may deliver one late by up to an interval, so a window meets at most
 * window/interval + 2 runs.
 */
export function callsPerRun(maxCalls: number, windowSeconds: number, intervalSeconds: number): number {
  return Math.floor(maxCalls / (Math.ceil(windowSeconds / intervalSeconds) + 2));
}
