import * as z from 'zod/mini';

/** Braze sends ids as strings; a number is accepted and kept as its string form. */
const id = z.pipe(
  z.union([z.string(), z.number()]),
  z.transform((value) => String(value).trim()),
);

/**
 * One Braze event of the webhook body (seed 001, SPEC section 2): `name`, `time` (ISO 8601, epoch
 * seconds or milliseconds), `properties` (passed through untouched), `external_id` and/or `email`,
 * `time_zone`, and an optional `id` to dedupe a webhook retry on. Extra fields are allowed.
 */
export const movableInkEventSchema = z.looseObject({
  name: z.string().check(z.trim(), z.minLength(1)),
  time: z.optional(z.union([z.string().check(z.trim(), z.minLength(1)), z.number()])),
  properties: z.optional(z.record(z.string(), z.unknown())),
  external_id: z.optional(id),
  email: z.optional(z.string()),
  /** Empty (a user with no time zone in Braze) means the default. */
  time_zone: z.optional(z.string().check(z.trim())),
  id: z.optional(id),
});
export type MovableInkEvent = z.infer<typeof movableInkEventSchema>;

const MAX_EVENTS_PER_REQUEST = 100;
/** The request: events are validated one by one, so a bad one is refused by index and the rest go on. */
export const movableInkRequestSchema = z.object({
  events: z.array(z.unknown()).check(z.minLength(1), z.maxLength(MAX_EVENTS_PER_REQUEST)),
});

/** What Movable Ink receives, but `properties` (carried as raw JSON text, numbers exactly as sent). */
const movableInkCallSchema = z.union([
  z.object({
    type: z.literal('track'),
    event: z.string(),
    timestamp: z.number(),
    timezone: z.string(),
    user_id: z.optional(z.string()),
    anonymous_id: z.optional(z.string()),
  }),
  z.object({
    type: z.literal('identify'),
    anonymous_id: z.string(),
    user_id: z.string(),
    timestamp: z.number(),
    timezone: z.string(),
  }),
]);
export type MovableInkCall = z.infer<typeof movableInkCallSchema>;

/** One queue message: one Movable Ink request. */
export const movableInkMessageSchema = z.object({
  v: z.literal(1),
  /** The flow that queued it (checked against the queue's feeding flows on delivery: fedBy). */
  flow: z.string().check(z.minLength(1)),
  requestId: z.string(),
  /** The event's `id`, when it had one: a webhook retry of it is not sent twice. */
  dedupe: z.optional(z.string()),
  call: movableInkCallSchema,
  /** The event's properties as JSON text (track only), spliced into the body as they came. */
  properties: z.optional(z.string()),
});
export type MovableInkMessage = z.infer<typeof movableInkMessageSchema>;
