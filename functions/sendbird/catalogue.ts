import { BRAZE_MAX_OBJECTS_PER_TRACK } from '../braze/limits';
import type { DeliveryQueue, IngressFlow } from '../core/catalogue-types';
import { DELIVERY_MAX_RECEIVE_COUNT } from '../core/delivery/backoff';

export const sendbirdFlows: readonly IngressFlow[] = [
  {
    id: 'sendbird-notifications',
    seed: '002',
    description: 'Braze webhook -> Sendbird notification (realtime: one target at once; batch: a campaign combined into calls of up to 10,000 targets)',
    source: 'sendbird',
    method: 'POST',
    path: '/sendbird/notifications',
    entry: 'functions/sendbird/notifications.ts',
    // The mode picks the lane at ingress: realtime webhooks never wait behind a campaign's batch.
    queue: 'sendbird-batch',
    alsoFeeds: ['sendbird-realtime'],
    auth: ['bearer'],
    throttle: { rateLimit: 500, burstLimit: 1000 },
    // The schema's 10,000 targets (or one recipient); `variables` are the template's own JSON.
    limits: { maxRecords: 10_000, recordsField: 'targets', maxDepth: 32 },
    caller: 'Braze: webhook template, `POST`, the body of docs/partners.md, header `Authorization: Bearer <sendbird inbound_token>`',
  },
  {
    id: 'sendbird-braze-callback',
    seed: '002',
    description: "Sendbird's Braze integration (event callback: a notification's SENT / READ) -> the same Braze custom events, each once; nothing else",
    source: 'sendbird',
    method: 'POST',
    // Sendbird's dashboard takes a "Braze REST endpoint" and posts to <endpoint>/users/track: the
    // endpoint set to https://<api>/sendbird/braze lands here.
    path: '/sendbird/braze/users/track',
    entry: 'functions/sendbird/braze-callback.ts',
    queue: 'braze-track',
    // Sendbird sends its "Braze REST API key" the way Braze takes it: Authorization: Bearer.
    auth: ['bearer'],
    throttle: { rateLimit: 200, burstLimit: 400 },
    // A /users/track body: at most BRAZE_MAX_OBJECTS_PER_TRACK events (Braze's cap per call); their properties nest.
    limits: { maxRecords: BRAZE_MAX_OBJECTS_PER_TRACK, recordsField: 'events', maxDepth: 8 },
    caller:
      'Sendbird dashboard, *Integrations* > *Braze*: **Braze REST endpoint** = this URL without `/users/track` ' +
      '(Sendbird appends it); **Braze REST API key** = the sendbird inbound_token',
  },
  {
    id: 'sendbird-status',
    seed: '002',
    description:
      "Signed SENT / READ statuses from a team's own code -> Braze custom event, once per user, notification " +
      "and status (Sendbird's dashboard has no such webhook: see sendbird-braze-callback)",
    source: 'sendbird',
    method: 'POST',
    path: '/sendbird/status',
    entry: 'functions/sendbird/status.ts',
    queue: 'braze-track',
    // A sender holding the Sendbird API token signs (x-sendbird-signature, HMAC of the raw body, as
    // Sendbird signs its own webhooks); one holding the inbound token sends it as Bearer.
    auth: ['bearer', 'signature'],
    throttle: { rateLimit: 200, burstLimit: 400 },
    // The schema's 1,000 statuses per array (or one).
    limits: { maxRecords: 1_000, maxDepth: 8 },
    caller: 'your own code, signing the body (`x-sendbird-signature`) or sending the sendbird inbound token as Bearer; not a Sendbird dashboard setting',
  },
];

const consumer = (id: string) => ({ entry: 'functions/sendbird/delivery.ts', flowId: `${id}-delivery`, timeoutSeconds: 60, memoryMb: 512 });

export const sendbirdQueues: readonly DeliveryQueue[] = [
  {
    id: 'sendbird-realtime',
    destination: 'sendbird',
    lane: 'realtime',
    description: 'Sendbird realtime notifications: one target per call, sent at once.',
    rateLimit: 'Sendbird realtime mode: one target per call; maxConcurrency x concurrency calls at once, 429 honours Retry-After',
    limits: { itemsPerCall: 1, grouped: true, concurrency: 4 },
    drive: { kind: 'event-source', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 5 },
    consumer: consumer('sendbird-realtime'),
    maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
    dedupe: { ttlSeconds: 48 * 3600 },
  },
  {
    id: 'sendbird-batch',
    destination: 'sendbird',
    lane: 'bulk',
    description: "Sendbird batch notifications: a campaign's webhooks (one per user) combined per template and variables.",
    rateLimit:
      'Sendbird batch mode: up to 10,000 targets per call (SENDBIRD_MAX_TARGETS_PER_CALL); a 20 s window gathers ' +
      'up to 10,000 webhooks per invocation, 2 invocations at once',
    limits: { itemsPerCall: 10_000, itemsPerCallSetting: 'SENDBIRD_MAX_TARGETS_PER_CALL', grouped: true, bytesPerCall: 4 * 1024 * 1024, concurrency: 2 },
    drive: { kind: 'event-source', batchSize: 10_000, maxBatchingWindowSeconds: 20, maxConcurrency: 2 },
    consumer: consumer('sendbird-batch'),
    maxReceiveCount: DELIVERY_MAX_RECEIVE_COUNT,
    dedupe: { ttlSeconds: 48 * 3600 },
  },
];
