import * as z from 'zod/mini';
import type { TrackItem } from './braze';
import { type OutgoingMessage, packIntoMessages } from './queue';

/**
 * What an into-Braze ingress puts on the shared `braze-track` queue: whole /users/track objects,
 * at most BRAZE_MAX_OBJECTS_PER_REQUEST per message so that a message always fits one call.
 */
export const trackMessageSchema = z.object({
  v: z.literal(1),
  flow: z.string().check(z.minLength(1)),
  requestId: z.string(),
  items: z
    .array(
      z.object({
        kind: z.enum(['attributes', 'events', 'purchases']),
        object: z.record(z.string(), z.unknown()),
      }),
    )
    .check(z.minLength(1)),
});
export type TrackMessage = z.infer<typeof trackMessageSchema>;

export function encodeTrackMessages(flow: string, requestId: string, items: readonly TrackItem[], maxObjects: number): OutgoingMessage[] {
  return packIntoMessages(items, maxObjects, (slice) => JSON.stringify({ v: 1, flow, requestId, items: slice } satisfies TrackMessage)).map(
    (body) => ({ body, attributes: { flow } }),
  );
}
