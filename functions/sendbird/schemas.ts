import * as z from 'zod/mini';
import { BRAZE_MAX_OBJECTS_PER_TRACK } from '../braze/limits';

const text = z.string().check(z.trim(), z.minLength(1));
/** Sendbird and Braze ids come as strings; a number is kept as its string form. */
const id = z.pipe(
  z.union([text, z.number()]),
  z.transform((value) => String(value)),
);

const MAX_TARGETS_PER_REQUEST = 10_000;

/**
 * A Braze webhook for a notification (SPEC section 2): `targets` (Sendbird user ids) or
 * `recipient` (the `sendbird_id` attribute or the Braze user id), the template, its variables.
 */
export const notificationRequestSchema = z
  .object({
    template_key: text,
    mode: z._default(z.enum(['realtime', 'batch']), 'batch'),
    targets: z.optional(z.array(id).check(z.minLength(1), z.maxLength(MAX_TARGETS_PER_REQUEST))),
    recipient: z.optional(id),
    variables: z.optional(z.record(z.string(), z.unknown())),
    push_template: z.optional(z.object({ title: z.string(), body: z.string() })),
    /** An id to dedupe a Braze retry on (e.g. the dispatch id and the user). */
    id: z.optional(id),
  })
  .check(
    z.refine((body) => (body.targets === undefined) !== (body.recipient === undefined), {
      message: 'give one of targets or recipient',
      path: ['targets'],
    }),
  );
export type NotificationRequest = z.infer<typeof notificationRequestSchema>;

/** One queued Sendbird call's worth: a template, its variables, and targets. */
export const notificationMessageSchema = z.object({
  v: z.literal(1),
  /** The flow that queued it (checked against the queue's feeding flows on delivery: fedBy). */
  flow: z.string().check(z.minLength(1)),
  requestId: z.string(),
  mode: z.enum(['realtime', 'batch']),
  /** Messages that may share a call (transform.ts notificationGroup): one template and push template; per-user variables or the same ones. */
  group: z.string(),
  template: z.object({ key: z.string(), variables: z.record(z.string(), z.unknown()) }),
  push_template: z.optional(z.object({ title: z.string(), body: z.string() })),
  targets: z.array(z.string()).check(z.minLength(1)),
  dedupe: z.optional(z.string()),
});
export type NotificationMessage = z.infer<typeof notificationMessageSchema>;

/** A Sendbird notification status (SENT or READ) for a user and notification. */
export const statusRecordSchema = z.looseObject({
  user_id: id,
  status: z.enum(['SENT', 'READ']),
  notification_id: id,
  template_key: z.optional(text),
  event_name: z.optional(text),
  timestamp: z.optional(z.union([text, z.number()])),
});
export type StatusRecord = z.infer<typeof statusRecordSchema>;

/** One record or an array of them; records are validated one by one (refused by index). */
export const statusRequestSchema = z.union([z.array(z.unknown()).check(z.minLength(1), z.maxLength(1_000)), z.record(z.string(), z.unknown())]);

/**
 * The facade of Braze's /users/track for Sendbird's Braze integration (sendbird-braze-callback):
 * what that call may carry and what the route refuses. Braze's request body has `attributes`,
 * `events` and `purchases` (braze.com/docs/api/endpoints/user_data/post_user_track); Sendbird's
 * event callback sends custom events (its "Integrate with Braze" page: "the delivery and read status
 * of a notification" as Braze custom events), so only `events` is taken.
 */
const MAX_CALLBACK_EVENTS = BRAZE_MAX_OBJECTS_PER_TRACK;
const userAlias = z.strictObject({ alias_name: text, alias_label: text });
/** The identifiers of Braze's event object, one of which is required. */
export const CALLBACK_IDENTIFIERS = ['external_id', 'user_alias', 'braze_id', 'email', 'phone'] as const;
/**
 * One event, as Braze's event object defines it (braze.com/docs/api/objects_filters/event_object):
 * one of `external_id`, `user_alias`, `braze_id`, `email`, `phone`; `name`; `time` (ISO 8601 or
 * `yyyy-MM-dd'T'HH:mm:ss:SSSZ`, forwarded as sent); `properties`; `app_id`; `_update_existing_only`.
 * Any other key is refused: this route writes nothing but the events.
 */
const callbackEventSchema = z
  .strictObject({
    external_id: z.optional(text),
    user_alias: z.optional(userAlias),
    braze_id: z.optional(text),
    email: z.optional(text),
    phone: z.optional(text),
    app_id: z.optional(text),
    name: text,
    time: text,
    properties: z.optional(z.record(z.string(), z.unknown())),
    _update_existing_only: z.optional(z.boolean()),
  })
  .check(
    z.refine((event) => CALLBACK_IDENTIFIERS.some((key) => event[key] !== undefined), {
      message: 'give one of external_id, user_alias, braze_id, email or phone',
      path: ['external_id'],
    }),
  );
export type CallbackEvent = z.infer<typeof callbackEventSchema>;

/**
 * What else a /users/track body may write, refused by name: the callback only forwards events. An
 * empty array writes nothing and is let through (a client may send every array of the body).
 */
const refused = (what: string) =>
  z.optional(z.array(z.unknown()).check(z.maxLength(0, { error: `${what} refused: this route forwards only the events of Sendbird's callback` })));

/**
 * Braze's /users/track body with events only: `attributes` and `purchases` (unless empty) and any
 * other key are refused by their name (in JSON Schema too: `maxItems: 0`, `not: {}`), so nothing
 * else that call could write reaches Braze.
 */
export const callbackRequestSchema = z.catchall(
  z.object({
    events: z.array(callbackEventSchema).check(z.minLength(1), z.maxLength(MAX_CALLBACK_EVENTS)),
    attributes: refused('attributes are'),
    purchases: refused('purchases are'),
  }),
  z.never({ error: "refused: this route forwards only the events of Sendbird's callback" }),
);
