import type { DeliveryQueue } from '../core/catalogue-types';
import { DELIVERY_MAX_RECEIVE_COUNT } from '../core/delivery/backoff';
import { BRAZE_MAX_OBJECTS_PER_TRACK, BRAZE_MAX_RECIPIENTS_PER_TRIGGER } from './limits';

/**
 * Calls' worth of attribute objects one message of the bulk lane carries (4 x 75 = 300). A backfill
 * costs per message (three writes in the queue, the SDK's and JSON's work on each side), so fuller
 * messages move more records for the same work (docs/benchmarks.md, "Backfill through npm start").
 * The lane's batch holds 100 / 4 = 25 such messages: the same 100 calls' worth (7,500 objects) an
 * invocation had with one call a message, so a backfill is still shared by as many invocations at
 * once. Only attribute objects are packed so (the consumer may split them across calls: an update
 * sent twice is harmless); a message with an event or a purchase always fits one call. The cost:
 * sparse traffic of one-record messages on this lane fills a batch with 25 records, not 100.
 */
export const BULK_CALLS_PER_MESSAGE = 4;
const CALLS_PER_BATCH = 100;

/**
 * Braze's delivery lanes for /users/track. Every into-Braze flow feeds one of them: `braze-track`
 * for realtime flows (a callback, a status, an activation), `braze-track-bulk` for backfills
 * (audience exports of thousands of records). Each lane is its own queue and consumer, so a
 * backfill's backlog never delays a realtime record; their concurrencies together stay far below
 * Braze's 3,000 calls per 3 s.
 */
const trackLane = (id: string, lane: 'realtime' | 'bulk', drive: { window: number; concurrency: number }): DeliveryQueue => ({
  id,
  destination: 'braze',
  lane,
  description:
    lane === 'realtime'
      ? `Braze /users/track objects of the realtime into-Braze flows, combined up to ${BRAZE_MAX_OBJECTS_PER_TRACK} per call.`
      : `Braze /users/track objects of backfills (audience exports), combined up to ${BRAZE_MAX_OBJECTS_PER_TRACK} per call; never ahead of the realtime lane.`,
  rateLimit: '3,000 calls / 3 s per workspace: maxConcurrency x concurrency calls at once per lane; 429 honours X-RateLimit-Reset',
  limits: {
    itemsPerCall: BRAZE_MAX_OBJECTS_PER_TRACK,
    itemsPerCallSetting: 'BRAZE_MAX_OBJECTS_PER_REQUEST',
    bytesPerCall: 4 * 1024 * 1024,
    concurrency: drive.concurrency,
  },
  drive: {
    kind: 'event-source',
    batchSize: lane === 'bulk' ? CALLS_PER_BATCH / BULK_CALLS_PER_MESSAGE : CALLS_PER_BATCH,
    maxBatchingWindowSeconds: drive.window,
    maxConcurrency: 5,
  },
  consumer: {
    entry: 'functions/braze/track-delivery.ts',
    flowId: `${id}-delivery`,
    timeoutSeconds: 60,
    memoryMb: 512,
  },
  maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
  // Events that carry a dedupe id (Sendbird statuses ...) reach Braze once, even when the sender retries.
  dedupe: { ttlSeconds: 48 * 3600 },
});

export const brazeQueues: readonly DeliveryQueue[] = [
  trackLane('braze-track', 'realtime', { window: 1, concurrency: 4 }),
  trackLane('braze-track-bulk', 'bulk', { window: 2, concurrency: 4 }),
  {
    id: 'braze-triggers',
    destination: 'braze',
    lane: 'realtime',
    description: `Recipients of API-triggered campaigns and Canvases, combined per campaign / Canvas, ${BRAZE_MAX_RECIPIENTS_PER_TRIGGER} per call.`,
    rateLimit:
      `Braze trigger endpoints: ${BRAZE_MAX_RECIPIENTS_PER_TRIGGER} recipients per call, ` +
      '250,000 calls per hour per workspace; 429 honours X-RateLimit-Reset',
    limits: { itemsPerCall: BRAZE_MAX_RECIPIENTS_PER_TRIGGER, grouped: true, concurrency: 2 },
    drive: { kind: 'event-source', batchSize: 100, maxBatchingWindowSeconds: 1, maxConcurrency: 2 },
    consumer: { entry: 'functions/braze/trigger-delivery.ts', flowId: 'braze-triggers-delivery', timeoutSeconds: 60, memoryMb: 256 },
    maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
  },
];

/** Calls' worth of attribute objects a message for this Braze queue carries: BULK_CALLS_PER_MESSAGE on the bulk lane, else 1. */
export function callsPerMessage(queueId: string): number {
  return brazeQueues.find((queue) => queue.id === queueId)?.lane === 'bulk' ? BULK_CALLS_PER_MESSAGE : 1;
}
