import * as z from 'zod/mini';
import type { TrackItem, TrackKind } from './braze';
import { isJsonObject } from './json-input';
import { type OutgoingMessage, packIntoMessages } from './queue';

const TRACK_KINDS: ReadonlySet<unknown> = new Set<TrackKind>(['attributes', 'events', 'purchases']);

/**
 * A message's items, `{kind, object}` each, checked where they stand rather than copied: a message
 * body is JSON our own ingress wrote from records it validated, so the consumer checks the shape
 * (a Braze kind, a JSON object) and names what is wrong (`items[3].object`) without building a copy
 * of every item and object, which cost a backfill's consumer more than parsing the JSON did.
 */
const trackItems = z
  .custom<TrackItem[]>((items) => Array.isArray(items) && items.length > 0, { error: 'expected a non-empty array of items' })
  .check(
    z.superRefine((items: unknown, ctx) => {
      if (!Array.isArray(items)) return;
      for (let i = 0; i < items.length; i++) {
        const item: unknown = items[i];
        if (!isJsonObject(item)) ctx.addIssue({ code: 'custom', message: 'expected an object', path: [i], input: item });
        else {
          if (!TRACK_KINDS.has(item.kind))
            ctx.addIssue({ code: 'custom', message: 'expected attributes, events or purchases', path: [i, 'kind'], input: item.kind });
          if (!isJsonObject(item.object)) ctx.addIssue({ code: 'custom', message: 'expected an object', path: [i, 'object'], input: item.object });
        }
      }
    }),
  );

/**
 * What an into-Braze ingress puts on the shared `braze-track` queue: whole /users/track objects,
 * at most BRAZE_MAX_OBJECTS_PER_REQUEST per message so that a message always fits one call.
 */
export const trackMessageSchema = z.object({
  v: z.literal(1),
  flow: z.string().check(z.minLength(1)),
  requestId: z.string(),
  /** A dedupe id (events that must reach Braze once, e.g. a Sendbird status): a copy delivered before is not sent again. */
  dedupe: z.optional(z.string()),
  items: trackItems,
});
export type TrackMessage = z.infer<typeof trackMessageSchema>;

/**
 * `dedupe`: the id of records that must reach Braze once (give it one record's items only).
 * `callsPerMessage`: how many calls' worth (of `maxObjects`) a message may carry when every item is an
 * attribute object, which the consumer may split across calls (a lane's choice: the bulk lane's
 * BULK_CALLS_PER_MESSAGE); a message with an event or a purchase always fits one call.
 */
export function encodeTrackMessages(
  flow: string,
  requestId: string,
  items: readonly TrackItem[],
  maxObjects: number,
  dedupe?: string,
  callsPerMessage = 1,
): OutgoingMessage[] {
  const perMessage = callsPerMessage > 1 && items.every((item) => item.kind === 'attributes') ? maxObjects * callsPerMessage : maxObjects;
  return packIntoMessages(items, perMessage, (slice) =>
    JSON.stringify({ v: 1, flow, requestId, ...(dedupe ? { dedupe } : {}), items: slice } satisfies TrackMessage),
  ).map((body) => ({ body, attributes: { flow } }));
}

/**
 * What an into-Braze flow puts on the `braze-triggers` queue: one recipient of one API-triggered
 * campaign or Canvas. The consumer combines a campaign's (or Canvas's) recipients, BRAZE_MAX_RECIPIENTS_PER_TRIGGER (50, functions/braze/limits.ts) per call.
 */
export const triggerMessageSchema = z.object({
  v: z.literal(1),
  flow: z.string().check(z.minLength(1)),
  requestId: z.string(),
  kind: z.enum(['campaign', 'canvas']),
  /** The campaign_id or canvas_id. */
  target: z.string().check(z.minLength(1)),
  recipient: z.object({
    external_user_id: z.optional(z.string()),
    email: z.optional(z.string()),
    /** Sent as trigger_properties (campaign) or canvas_entry_properties (Canvas), and as attributes. */
    fields: z.record(z.string(), z.unknown()),
  }),
});
export type TriggerMessage = z.infer<typeof triggerMessageSchema>;
