import * as z from 'zod/mini';

/**
 * One event of a Braze Currents custom HTTP export: `event_type` (`users.messages.email.Open`,
 * `users.behaviors.CustomEvent` ...), `id`, `time` (epoch seconds), `user` and `properties`
 * (braze-inc/braze-docs _docs/_partners/isv_partners/currents_integration.md, "Payload examples");
 * the rest of the Currents schema is kept (loose objects) and forwarded under `_braze`. Braze adds
 * nullable fields over time ("Change resilience"): a `null` is taken as absent.
 */
export const currentsEventSchema = z.looseObject({
  event_type: z.string().check(z.trim(), z.minLength(1)),
  id: z.string().check(z.trim(), z.minLength(1)),
  time: z.number(),
  user: z.optional(
    z.nullable(
      z.looseObject({
        user_id: z.optional(z.nullable(z.string())),
        external_user_id: z.optional(z.nullable(z.string())),
      }),
    ),
  ),
  properties: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
});
export type CurrentsEvent = z.infer<typeof currentsEventSchema>;

/**
 * Events one Currents batch may carry: Braze batches 100 by default and the batch size is
 * configurable ("if batch size is configured for 200 events", the connector page).
 */
const MAX_CURRENTS_EVENTS = 1_000;

/**
 * A Currents batch; events are validated one by one (refused by index). Zero events (`{"events":
 * []}`, `{}`, or an empty body: the flow's `emptyBody`) is how Braze checks a Current's
 * credentials, a no-op answered 2xx.
 */
export const currentsBatchSchema = z.object({ events: z._default(z.array(z.unknown()).check(z.maxLength(MAX_CURRENTS_EVENTS)), []) });

/** What ODP's /v3/events takes, one per object. */
const odpEventSchema = z.object({
  type: z.string(),
  action: z.string(),
  identifiers: z.record(z.string(), z.string()),
  data: z.record(z.string(), z.unknown()),
});
export type OdpEvent = z.infer<typeof odpEventSchema>;

/** One queue message: one ODP event, and the Currents id it came from (each id is sent once). */
export const odpEventMessageSchema = z.object({
  v: z.literal(1),
  /** The flow that queued it (checked against the queue's feeding flows on delivery: fedBy). */
  flow: z.string().check(z.minLength(1)),
  requestId: z.string(),
  dedupe: z.string(),
  event: odpEventSchema,
});
export type OdpEventMessage = z.infer<typeof odpEventMessageSchema>;

/** An ODP activation record: who (external_id, or email where that is all ODP has) and up to 20 fields. */
const MAX_ACTIVATION_FIELDS = 20;
const identifier = z.pipe(
  z.union([z.string(), z.number()]),
  z.transform((value) => String(value).trim()),
);
export const activationRecordSchema = z.object({
  external_id: z.optional(identifier),
  email: z.optional(z.string().check(z.trim())),
  fields: z.optional(
    z
      .record(z.string(), z.unknown())
      .check(z.refine((fields) => Object.keys(fields).length <= MAX_ACTIVATION_FIELDS, `at most ${MAX_ACTIVATION_FIELDS} fields`)),
  ),
});

/** An ODP activation (SPEC section 2): a target and its records; records are checked one by one. */
export const activationRequestSchema = z
  .object({
    target: z.enum(['profile', 'campaign', 'canvas']),
    campaign_id: z.optional(z.string().check(z.trim(), z.minLength(1))),
    canvas_id: z.optional(z.string().check(z.trim(), z.minLength(1))),
    records: z.array(z.unknown()).check(z.minLength(1), z.maxLength(10_000)),
  })
  .check(
    z.refine((body) => body.target !== 'campaign' || body.campaign_id !== undefined, { message: 'required when target is campaign', path: ['campaign_id'] }),
    z.refine((body) => body.target !== 'canvas' || body.canvas_id !== undefined, { message: 'required when target is canvas', path: ['canvas_id'] }),
  );
export type ActivationRequest = z.infer<typeof activationRequestSchema>;
