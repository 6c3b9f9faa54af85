import type { DeliveryQueue, IngressFlow } from '../core/catalogue-types';
import { DELIVERY_MAX_RECEIVE_COUNT } from '../core/delivery/backoff';

export const seenFlows: readonly IngressFlow[] = [
  {
    id: 'seen-callback',
    seed: '000',
    description: 'SEEN "video ready" callback -> Braze /users/track attributes (braze_id, landing page, thumbnail)',
    owner: 'seen',
    method: 'POST',
    path: '/seen/callback',
    entry: 'functions/seen/callback.ts',
    queue: 'braze-track',
    // SEEN is given a URL to call back ("share your webhook URL with SEEN"): it may carry the token.
    auth: ['bearer', 'query'],
    throttle: { rateLimit: 50, burstLimit: 100 },
    // One callback; the extra fields SEEN_CAMPAIGNS maps are values (8 leaves room for a small object).
    limits: { maxRecords: 1, maxDepth: 8 },
  },
  {
    id: 'seen-receivers',
    seed: '000',
    description: 'Braze webhook receivers -> SEEN /v1/campaigns/{slug}/receivers/ within the hourly budget',
    owner: 'seen',
    method: 'POST',
    path: '/seen/campaigns/{campaign_slug}/receivers',
    entry: 'functions/seen/receivers.ts',
    queue: 'seen-receivers',
    // A Braze webhook sets headers: the token stays out of URLs and access logs.
    auth: ['bearer'],
    throttle: { rateLimit: 50, burstLimit: 100 },
    // The schema's MAX_RECEIVERS_PER_REQUEST; receivers are flat objects whose extra fields are forwarded.
    limits: { maxRecords: 10_000, maxDepth: 8 },
  },
];

export const seenQueues: readonly DeliveryQueue[] = [
  {
    id: 'seen-receivers',
    owner: 'seen',
    lane: 'realtime',
    description: 'Braze webhook receivers for SEEN campaigns, combined per campaign.',
    rateLimit: 'SEEN_MAX_CALLS_PER_HOUR (1,000 by SEEN) in any rolling hour: a scheduled drain with a fixed per-run budget',
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
];
