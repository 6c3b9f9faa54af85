import * as z from 'zod/mini';

const text = z.string().check(z.trim(), z.minLength(1));
/** Sendbird and Braze ids come as strings; a number is kept as its string form. */
const id = z.pipe(
  z.union([text, z.number()]),
  z.transform((value) => String(value)),
);

export const MAX_TARGETS_PER_REQUEST = 10_000;

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
  flow: z.literal('sendbird-notifications'),
  requestId: z.string(),
  mode: z.enum(['realtime', 'batch']),
  /** Webhooks with the same template, variables and push template share a group, so one call. */
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
