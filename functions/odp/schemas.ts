import * as z from 'zod/mini';

/**
 * One event of a Braze Currents custom HTTP export: `event_type` (`users.messages.email.Open`,
 * `users.behaviors.CustomEvent` ...), `id`, `time` (epoch seconds), `user` and `properties`; the
 * rest of the Currents schema is kept (loose objects) and forwarded under `_braze`.
 */
export const currentsEventSchema = z.looseObject({
  event_type: z.string().check(z.trim(), z.minLength(1)),
  id: z.string().check(z.trim(), z.minLength(1)),
  time: z.number(),
  user: z.optional(
    z.looseObject({
      user_id: z.optional(z.string()),
      external_user_id: z.optional(z.string()),
    }),
  ),
  properties: z.optional(z.record(z.string(), z.unknown())),
});
export type CurrentsEvent = z.infer<typeof currentsEventSchema>;

/** Currents batches up to 100 events; events are validated one by one (refused by index). */
export const currentsBatchSchema = z.object({ events: z.array(z.unknown()).check(z.minLength(1), z.maxLength(100)) });

/** What ODP's /v3/events takes, one per object. */
export const odpEventSchema = z.object({
  type: z.string(),
  action: z.string(),
  identifiers: z.record(z.string(), z.string()),
  data: z.record(z.string(), z.unknown()),
});
export type OdpEvent = z.infer<typeof odpEventSchema>;

/** One queue message: one ODP event, and the Currents id it came from (each id is sent once). */
export const odpEventMessageSchema = z.object({
  v: z.literal(1),
  flow: z.literal('odp-currents'),
  requestId: z.string(),
  dedupe: z.string(),
  event: odpEventSchema,
});
export type OdpEventMessage = z.infer<typeof odpEventMessageSchema>;
