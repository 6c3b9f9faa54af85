/**
 * The one list of flows. The CDK app (lib/) turns each entry into an API route, functions, a
 * queue with its DLQ, alarms and secret grants; the local runner (local/) serves the same routes
 * with the same handler modules and drives the same consumers. Adding a flow is adding an entry.
 */
import type { SecretOwner } from './core/secrets';

export type QueueId = 'braze-track' | 'seen-receivers' | 'lytics-users';

export interface IngressFlow {
  id: string;
  /** Seed file the flow comes from (shared/seeds). */
  seed: string;
  description: string;
  /** Whose inbound token authenticates the sender, and whose secret the function may read. */
  owner: SecretOwner;
  method: 'POST';
  /** API Gateway route path; `{name}` segments are path parameters. */
  path: string;
  /** Handler module, from the project root; it exports `build(deps)` and `handler`. */
  entry: string;
  /** Queue the ingress feeds. */
  queue: QueueId;
  /** API Gateway throttling for the route (requests per second, burst). */
  throttle: { rateLimit: number; burstLimit: number };
}

interface ConsumerBase {
  entry: string;
  /** The `flow` its logs and EMF metrics carry (the module's FLOW_ID); the alarms use it. */
  flowId: string;
  timeoutSeconds: number;
  memoryMb: number;
}

/** Lambda's SQS event source mapping drives the consumer. */
export interface EventSourceConsumer extends ConsumerBase {
  kind: 'event-source';
  batchSize: number;
  maxBatchingWindowSeconds: number;
  /** Caps parallel invocations: the knob that keeps us inside the destination's rate limit. */
  maxConcurrency: number;
}

/** A schedule drives the consumer, which receives itself: for budgets below one call per second. */
export interface ScheduledConsumer extends ConsumerBase {
  kind: 'schedule';
  /** Name of the setting holding the interval (seconds). */
  intervalSetting: 'SEEN_DRAIN_INTERVAL_SECONDS';
}

export interface DeliveryQueue {
  id: QueueId;
  destination: 'braze' | 'seen' | 'lytics';
  /** Secret the consumer reads (outbound credentials). */
  owner: SecretOwner;
  description: string;
  /** The destination's rate limit, as documented, and how we keep to it. */
  rateLimit: string;
  consumer: EventSourceConsumer | ScheduledConsumer;
  /** Receives before SQS moves a message to the DLQ. */
  maxReceiveCount: number;
}

export const deliveryQueues: readonly DeliveryQueue[] = [
  {
    id: 'braze-track',
    destination: 'braze',
    owner: 'braze',
    description: 'Objects for Braze /users/track from every into-Braze flow, combined up to 75 per call.',
    rateLimit: '3,000 calls / 3 s per workspace: maxConcurrency caps parallel calls; 429 honours X-RateLimit-Reset',
    consumer: {
      kind: 'event-source',
      entry: 'functions/braze/track-delivery.ts',
      flowId: 'braze-track-delivery',
      batchSize: 100,
      maxBatchingWindowSeconds: 2,
      maxConcurrency: 5,
      timeoutSeconds: 60,
      memoryMb: 512,
    },
    maxReceiveCount: 5,
  },
  {
    id: 'seen-receivers',
    destination: 'seen',
    owner: 'seen',
    description: 'Braze webhook receivers for SEEN campaigns, combined per campaign.',
    rateLimit: 'SEEN_MAX_CALLS_PER_HOUR (1,000 by SEEN) in any rolling hour: a scheduled drain with a fixed per-run budget',
    consumer: {
      kind: 'schedule',
      entry: 'functions/seen/drain.ts',
      flowId: 'seen-drain',
      intervalSetting: 'SEEN_DRAIN_INTERVAL_SECONDS',
      timeoutSeconds: 50,
      memoryMb: 256,
    },
    maxReceiveCount: 10,
  },
  {
    id: 'lytics-users',
    destination: 'lytics',
    owner: 'lytics',
    description: 'Braze webhook user profiles for the Lytics collect API (stream braze_users), combined per call.',
    rateLimit: 'Lytics collect API: up to 10 MB per call; maxConcurrency caps parallel calls, 429 honours Retry-After',
    consumer: {
      kind: 'event-source',
      entry: 'functions/lytics/users-delivery.ts',
      flowId: 'lytics-users-delivery',
      batchSize: 500,
      maxBatchingWindowSeconds: 5,
      maxConcurrency: 2,
      timeoutSeconds: 60,
      memoryMb: 512,
    },
    maxReceiveCount: 5,
  },
];

export const ingressFlows: readonly IngressFlow[] = [
  {
    id: 'seen-callback',
    seed: '000',
    description: 'SEEN "video ready" callback -> Braze /users/track attributes (braze_id, landing page, thumbnail)',
    owner: 'seen',
    method: 'POST',
    path: '/seen/callback',
    entry: 'functions/seen/callback.ts',
    queue: 'braze-track',
    throttle: { rateLimit: 50, burstLimit: 100 },
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
    throttle: { rateLimit: 50, burstLimit: 100 },
  },
  {
    id: 'lytics-audiences',
    seed: '003',
    description: 'Lytics audience export (add/remove) -> Braze /users/track lytics_segments, merged per user',
    owner: 'lytics',
    method: 'POST',
    path: '/lytics/audiences',
    entry: 'functions/lytics/audiences.ts',
    queue: 'braze-track',
    throttle: { rateLimit: 100, burstLimit: 200 },
  },
  {
    id: 'lytics-users',
    seed: '003',
    description: 'Braze webhook user profile -> Lytics collect API, stream braze_users',
    owner: 'lytics',
    method: 'POST',
    path: '/lytics/users',
    entry: 'functions/lytics/users.ts',
    queue: 'lytics-users',
    throttle: { rateLimit: 100, burstLimit: 200 },
  },
];

export function queueById(id: QueueId): DeliveryQueue {
  const queue = deliveryQueues.find((q) => q.id === id);
  if (!queue) throw new Error(`unknown queue ${id}`);
  return queue;
}

/** A job started by a file landing in the imports bucket (S3 event notification -> Lambda). */
export interface S3Job {
  id: string;
  seed: string;
  description: string;
  /** Whose secret the job reads (outbound credentials). */
  owner: SecretOwner;
  entry: string;
  /** The `flow` its logs and metrics carry (the module's FLOW_ID). */
  flowId: string;
  /** Object keys that start the job: under `prefix`, ending in `suffix`. */
  trigger: { kind: 's3'; prefix: string; suffix: string };
  timeoutSeconds: number;
  memoryMb: number;
}

export const jobs: readonly S3Job[] = [
  {
    id: 'lytics-csv-import',
    seed: '003',
    description: 'Braze segment CSV export (up to 500,000 users) streamed into the Lytics bulk CSV API',
    owner: 'lytics',
    entry: 'functions/lytics/csv-import.ts',
    flowId: 'lytics-csv-import',
    trigger: { kind: 's3', prefix: 'lytics/', suffix: '.csv' },
    timeoutSeconds: 900,
    memoryMb: 1024,
  },
];
