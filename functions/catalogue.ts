/**
 * The one list of flows. The CDK app (lib/) turns each entry into an API route, functions, a
 * queue with its DLQ, alarms and secret grants; the local runner (local/) serves the same routes
 * with the same handler modules and drives the same consumers. Adding a flow is adding an entry.
 */
import type { SecretOwner } from './core/secrets';

export type QueueId = 'braze-track' | 'seen-receivers';

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
  destination: 'braze' | 'seen';
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
      intervalSetting: 'SEEN_DRAIN_INTERVAL_SECONDS',
      timeoutSeconds: 50,
      memoryMb: 256,
    },
    maxReceiveCount: 10,
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
];

export function queueById(id: QueueId): DeliveryQueue {
  const queue = deliveryQueues.find((q) => q.id === id);
  if (!queue) throw new Error(`unknown queue ${id}`);
  return queue;
}
