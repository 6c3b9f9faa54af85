import type { DeliveryQueue, IngressFlow, S3Job } from '../core/catalogue-types';
import { DELIVERY_MAX_RECEIVE_COUNT } from '../core/delivery/backoff';

export const lyticsFlows: readonly IngressFlow[] = [
  {
    id: 'lytics-audiences',
    seed: '003',
    description: 'Lytics audience export (add/remove) -> Braze /users/track lytics_segments, merged per user',
    source: 'lytics',
    method: 'POST',
    path: '/lytics/audiences',
    entry: 'functions/lytics/audiences.ts',
    // Thousands of records per call on a backfill: the bulk lane, never ahead of realtime flows.
    queue: 'braze-track-bulk',
    // Lytics is given the URL of the export webhook: it may carry the token.
    auth: ['bearer', 'query'],
    throttle: { rateLimit: 100, burstLimit: 200 },
    // A backfill comes in requests of at most 10,000 records: every refused one is listed in the answer, which
    // must stay far below Lambda's 6 MB; records need 5 levels (envelope, array, record, lytics_segments, add).
    limits: { maxRecords: 10_000, recordsField: 'lytics_to_braze_audience', maxDepth: 8 },
    caller:
      'Lytics: **Webhook URL** of an *Audience Triggers Webhook* job with the template of docs/partners.md (the token in a request header, or in the URL)',
  },
  {
    id: 'lytics-users',
    seed: '003',
    description: 'Braze webhook user profile -> Lytics collect API, stream braze_users',
    source: 'lytics',
    method: 'POST',
    path: '/lytics/users',
    entry: 'functions/lytics/users.ts',
    queue: 'lytics-users',
    // A Braze webhook sets headers: the token stays out of URLs and access logs.
    auth: ['bearer'],
    throttle: { rateLimit: 100, burstLimit: 200 },
    // One profile of scalar fields.
    limits: { maxRecords: 1, maxDepth: 8 },
    caller:
      'Braze: webhook campaign or Canvas step, `POST`, body the user profile (`braze_id`, email, names ...), ' +
      'header `Authorization: Bearer <lytics inbound_token>`',
  },
];

export const lyticsQueues: readonly DeliveryQueue[] = [
  {
    id: 'lytics-users',
    destination: 'lytics',
    lane: 'realtime',
    description: 'Braze webhook user profiles for the Lytics collect API (stream braze_users), combined per call.',
    rateLimit: 'Lytics collect API: up to 10 MB per call; maxConcurrency x concurrency calls at once, 429 honours Retry-After',
    limits: { itemsPerCall: 500, itemsPerCallSetting: 'LYTICS_MAX_EVENTS_PER_REQUEST', bytesPerCall: 9 * 1024 * 1024, concurrency: 2 },
    drive: { kind: 'event-source', batchSize: 500, maxBatchingWindowSeconds: 5, maxConcurrency: 2 },
    consumer: { entry: 'functions/lytics/users-delivery.ts', flowId: 'lytics-users-delivery', timeoutSeconds: 60, memoryMb: 512 },
    maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
  },
];

export const lyticsJobs: readonly S3Job[] = [
  {
    id: 'lytics-csv-import',
    seed: '003',
    description: 'Braze segment CSV export (up to 500,000 users) streamed into the Lytics bulk CSV API',
    destination: 'lytics',
    entry: 'functions/lytics/csv-import.ts',
    flowId: 'lytics-csv-import',
    trigger: { kind: 's3', prefix: 'lytics/', suffix: '.csv' },
    timeoutSeconds: 900,
    memoryMb: 1024,
    localOptions: { stream: 'LYTICS_CSV_STREAM', 'rows-per-request': 'LYTICS_CSV_ROWS_PER_REQUEST' },
  },
];
