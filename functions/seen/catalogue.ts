import type { DeliveryQueue, IngressFlow } from '../core/catalogue-types';
import { DELIVERY_MAX_RECEIVE_COUNT } from '../core/delivery/backoff';

/** The SEEN API 2.0 lane: one data item per request, event-source driven. */
export const SEEN_DATA_QUEUE = 'seen-data';

export const seenFlows: readonly IngressFlow[] = [
  {
    id: 'seen-callback',
    seed: '000',
    description: 'SEEN "video ready" callback -> Braze /users/track attributes (braze_id, landing page, thumbnail)',
    source: 'seen',
    method: 'POST',
    path: '/seen/callback',
    entry: 'functions/seen/callback.ts',
    queue: 'braze-track',
    // SEEN is given a URL to call back ("share your webhook URL with SEEN"): it may carry the token.
    // SEEN's legacy callbacks ("Basic, Static token, Oauth2") and a 2.0 Journey's webhook node
    // ("Basic Auth") also offer Basic: the inbound token as its password.
    auth: ['bearer', 'query', 'basic'],
    throttle: { rateLimit: 50, burstLimit: 100 },
    // One callback; the extra fields SEEN_CAMPAIGNS maps are values (8 leaves room for a small object).
    limits: { maxRecords: 1, maxDepth: 8 },
    caller: 'SEEN legacy: the "video ready" callback URL; SEEN 2.0: the Journey\'s webhook node URL (or Basic Auth, the token as password)',
  },
  {
    id: 'seen-receivers',
    seed: '000',
    description:
      'Braze webhook receivers -> SEEN: legacy /v1/campaigns/{slug}/receivers/ within the hourly budget, or ' +
      '(SEEN_API_VERSION=2) one request per receiver to the project data URL',
    source: 'seen',
    method: 'POST',
    path: '/seen/campaigns/{campaign_slug}/receivers',
    entry: 'functions/seen/receivers.ts',
    queue: 'seen-receivers',
    // SEEN_API_VERSION=2 puts the receivers on the 2.0 lane instead.
    alsoFeeds: [SEEN_DATA_QUEUE],
    // A Braze webhook sets headers: the token stays out of URLs and access logs.
    auth: ['bearer'],
    throttle: { rateLimit: 50, burstLimit: 100 },
    // The schema's MAX_RECEIVERS_PER_REQUEST (one queue message each: a Braze webhook carries one
    // user's); receivers are flat objects whose extra fields are forwarded.
    limits: { maxRecords: 1_000, maxDepth: 8 },
    caller:
      'Braze: webhook campaign or Canvas step, `POST`, JSON body with the receivers (docs/partners.md, SEEN), ' +
      'header `Authorization: Bearer <seen inbound_token>`',
  },
];

export const seenQueues: readonly DeliveryQueue[] = [
  {
    id: 'seen-receivers',
    destination: 'seen',
    lane: 'realtime',
    description: 'Braze webhook receivers for SEEN campaigns, combined per campaign.',
    rateLimit:
      'SEEN_MAX_CALLS_PER_HOUR (1,000 by SEEN) in any rolling hour: a scheduled drain, one run at a time, whose ' +
      'calls are counted in a ledger shared by every run (the dedupe table); at most max(1, callsPerRun) calls ' +
      'a run',
    limits: { itemsPerCall: 100, itemsPerCallSetting: 'SEEN_MAX_RECEIVERS_PER_CALL', grouped: true, concurrency: 1 },
    drive: {
      kind: 'schedule',
      intervalSetting: 'SEEN_DRAIN_INTERVAL_SECONDS',
      localIntervalSeconds: 10,
      budget: { callsSetting: 'SEEN_MAX_CALLS_PER_HOUR', windowSetting: 'SEEN_BUDGET_WINDOW_SECONDS' },
    },
    consumer: { entry: 'functions/seen/drain.ts', flowId: 'seen-drain', timeoutSeconds: 50, memoryMb: 256 },
    maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
    // The drain holds a burst back by design: an hour of backlog is normal.
    oldestMessageAlarmSeconds: 3600,
  },
  {
    id: SEEN_DATA_QUEUE,
    destination: 'seen',
    lane: 'realtime',
    description: 'SEEN API 2.0 data items, one per receiver, each posted on its own to its project data URL.',
    rateLimit:
      'SEEN API 2.0: 100 requests per 10 seconds (SEEN_MAX_REQUESTS_PER_10S) across instances: at most maxConcurrency ' +
      '(2) invocations at once, each starting its requests 10 s x 2 / SEEN_MAX_REQUESTS_PER_10S apart, the ' +
      'first one that long after it starts (functions/seen/rate.ts)',
    limits: { itemsPerCall: 1, concurrency: 1 },
    drive: { kind: 'event-source', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
    consumer: { entry: 'functions/seen/data.ts', flowId: 'seen-data-delivery', timeoutSeconds: 60, memoryMb: 256 },
    maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
  },
];
