import type { DeliveryQueue, IngressFlow } from '../core/catalogue-types';
import { DELIVERY_MAX_RECEIVE_COUNT } from '../core/delivery/backoff';

export const movableInkFlows: readonly IngressFlow[] = [
  {
    id: 'movable-ink-events',
    seed: '001',
    description: 'Braze events (webhook) -> Movable Ink Customer Data API track / identify',
    source: 'movable-ink',
    method: 'POST',
    path: '/movable-ink/events',
    entry: 'functions/movable-ink/events.ts',
    queue: 'movable-ink',
    // A Braze webhook sets headers: the token stays out of URLs and access logs.
    auth: ['bearer'],
    throttle: { rateLimit: 50, burstLimit: 100 },
    // The schema's 1 to 100 events; `properties` is the sender's own JSON, passed through with its digits.
    limits: { maxRecords: 100, recordsField: 'events', maxDepth: 32, exactNumbersIn: ['events[].properties'] },
    caller: 'Braze: webhook campaign on the event, `POST`, the body of docs/partners.md, header `Authorization: Bearer <movable-ink inbound_token>`',
  },
];

export const movableInkQueues: readonly DeliveryQueue[] = [
  {
    id: 'movable-ink',
    destination: 'movable-ink',
    lane: 'realtime',
    description: 'Movable Ink behavioural events (track / identify), one per request.',
    rateLimit:
      'Movable Ink publishes no rate limit and no batch contract: one event per request, MOVABLE_INK_MAX_CONCURRENCY ' +
      '(2) invocations x 4 calls at once; 429 honours Retry-After',
    limits: { itemsPerCall: 1, concurrency: 4 },
    drive: { kind: 'event-source', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 2, maxConcurrencySetting: 'MOVABLE_INK_MAX_CONCURRENCY' },
    consumer: { entry: 'functions/movable-ink/delivery.ts', flowId: 'movable-ink-delivery', timeoutSeconds: 60, memoryMb: 256 },
    maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
    // Braze retries a webhook for up to 30 minutes; an event id is remembered two days.
    dedupe: { ttlSeconds: 48 * 3600 },
  },
];
