import { BrazeClient, type TrackItem } from '../core/braze';
import type { DeliveryQueue } from '../core/catalogue-types';
import { createDeliveryConsumer, itemsPerCall, type Refusal } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { requireSecret } from '../core/secrets';
import { type TrackMessage, trackMessageSchema } from '../core/track-queue';
import { brazeQueues } from './catalogue';
import { brazeSettings } from './settings';

/**
 * Drains one Braze lane (`braze-track` realtime, `braze-track-bulk` backfills: the queue named by
 * the function's flow, `<queue>-delivery`): the objects of many messages go out in /users/track
 * calls of at most BRAZE_MAX_OBJECTS_PER_REQUEST (attributes + events + purchases), filled to the
 * cap by splitting attribute-only messages; messages with events or purchases stay whole. 429/5xx
 * are retried in-process within the invocation's time, then left to SQS and the DLQ; objects Braze
 * refuses inside a success answer are parked in the DLQ with Braze's reason. Calls of the bulk lane
 * carry `X-Braze-Bulk: true` (core/braze.ts); the realtime lane's do not.
 */
export function build(deps: Deps, queue: DeliveryQueue) {
  const settings = settingsOf(deps, brazeSettings);
  const braze = new BrazeClient({
    endpoint: requireSetting(settings, 'BRAZE_REST_ENDPOINT'),
    apiKey: () => requireSecret(deps.secrets, 'braze', 'api_key'),
    http: deps.http,
    maxObjectsPerRequest: itemsPerCall(queue.limits, settings),
  });
  // Backfills (the bulk lane) say so to Braze: X-Braze-Bulk: true; the realtime lane never does.
  const bulk = queue.lane === 'bulk';

  return createDeliveryConsumer(
    {
      queue,
      settings,
      schema: trackMessageSchema,
      weight: (message) => message.items.length,
      dedupeKey: (message) => message.dedupe,
      // Attribute updates are idempotent: such messages may be split to fill every call.
      // Events and purchases are never split, so a retried call cannot count them twice.
      split: (message, n) =>
        message.items.every((item) => item.kind === 'attributes')
          ? [
              { ...message, items: message.items.slice(0, n) },
              { ...message, items: message.items.slice(n) },
            ]
          : undefined,
      send: async (messages, call) => {
        const items: TrackItem[] = messages.flatMap((message) => message.items);
        const result = await braze.track(items, { deadline: call.deadline, http: call.http, bulk });
        return refusedObjects(messages, result.errors);
      },
    },
    deps,
  );
}

/**
 * Groups the objects Braze refused back into (sub-)messages, one per message and error type, each
 * naming the index of its message in `messages` (the consumer traces it to the SQS message).
 */
export function refusedObjects(messages: readonly TrackMessage[], errors: readonly { itemIndex: number; type: string }[]): Refusal<TrackMessage>[] {
  const owners: { message: TrackMessage; start: number }[] = [];
  let start = 0;
  for (const message of messages) {
    owners.push({ message, start });
    start += message.items.length;
  }
  const groups = new Map<string, { message: TrackMessage; bodyIndex: number; type: string; items: TrackMessage['items'] }>();
  for (const error of errors) {
    const owner = owners.findLast((entry) => entry.start <= error.itemIndex);
    const item = owner?.message.items[error.itemIndex - owner.start];
    if (!owner || !item) continue;
    const bodyIndex = owners.indexOf(owner);
    const key = `${bodyIndex}\u0000${error.type}`;
    const group = groups.get(key) ?? { message: owner.message, bodyIndex, type: error.type, items: [] };
    group.items.push(item);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ message, bodyIndex, type, items }) => ({
    body: { ...message, items },
    reason: `braze_object_error:${type}`,
    records: items.length,
    bodyIndex,
  }));
}

export const handler = lazyHandler(brazeQueues, build);
