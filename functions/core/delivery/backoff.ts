/**
 * How long a message waits before its next try, when its destination did not take it (SPEC
 * section 4): the wait doubles with each receive from `firstSeconds` up to `maxSeconds`, through
 * the message's visibility (an event-source consumer changes it before reporting the failure; a
 * scheduled run before letting the message go). The arithmetic behind each queue's
 * maxReceiveCount is `secondsBeforeReceive` (docs/architecture.md, "Faults").
 */

/** An event-source consumer's first wait after a failed try. */
export const FIRST_RETRY_SECONDS = 30;
/** SQS's longest visibility timeout (12 hours): a 429 whose reset is further away waits this long, then asks again. */
export const MAX_VISIBILITY_SECONDS = 43_200;
/**
 * Receives before SQS moves a delivery message to its DLQ, on every delivery queue. With the
 * backoff above (30 s doubling to 900 s; a scheduled drain's first wait is its interval, 60 s by
 * default), a message has waited `secondsBeforeReceive(150, ...)`, about 36 hours, when its 150th
 * receive fails: a destination down for 24 hours parks nothing (test/unit/core/backoff.test.ts
 * checks it for every queue). A message that crashes its consumer comes back after the queue's
 * visibility timeout (six times the consumer's timeout) each time, so it reaches the DLQ after
 * about 150 x 6 minutes = 15 hours.
 */
export const DELIVERY_MAX_RECEIVE_COUNT = 150;

/** A copy of a record whose twin is being delivered by another consumer right now is looked at again after this. */
export const IN_FLIGHT_RETRY_SECONDS = 30;

export interface Backoff {
  firstSeconds: number;
  maxSeconds: number;
}

/** The wait after the `receiveCount`-th receive failed: first * 2^(receiveCount - 1), at most max. */
export function retryDelaySeconds(receiveCount: number, backoff: Backoff): number {
  const exponent = Math.max(0, Math.min(30, receiveCount - 1));
  return Math.min(backoff.maxSeconds, backoff.firstSeconds * 2 ** exponent);
}

/** The wait, honouring what the destination asked for (a 429's reset), within SQS's bounds. */
export function waitSeconds(receiveCount: number, backoff: Backoff, requestedMs?: number): number {
  const ours = retryDelaySeconds(receiveCount, backoff);
  const theirs = requestedMs === undefined ? 0 : Math.ceil(requestedMs / 1000);
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(ours, theirs));
}

/**
 * Seconds a message has waited, in all, when it is received for the `receives`-th time after
 * failing every try before (tries themselves not counted): SQS moves it to the DLQ on the receive
 * after maxReceiveCount, so `secondsBeforeReceive(maxReceiveCount, ...)` is the longest outage the
 * queue rides out without parking anything.
 */
export function secondsBeforeReceive(receives: number, backoff: Backoff): number {
  let total = 0;
  for (let receive = 1; receive < receives; receive++) total += retryDelaySeconds(receive, backoff);
  return total;
}
