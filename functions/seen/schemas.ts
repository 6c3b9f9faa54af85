import * as z from 'zod/mini';

const text = z.string().check(z.trim(), z.minLength(1));
/** SEEN sends ids as strings ("101"); a number is accepted and kept as its string form. */
const id = z.pipe(
  z.union([text, z.number()]),
  z.transform((value) => String(value)),
);

/**
 * SEEN "video ready" callback (seed 000; SPEC section 2, seen). The legacy callback carries
 * `customer_id` and `campaign_slug` (docs.seen.io, SEEN API 1.0 Legacy, "Callbacks"); a SEEN API
 * 2.0 Journey's webhook node sends the JSON the team writes, for which Braze's SEEN page asks `id`,
 * `player_url` and `email_thumbnail_url` (the node's outputs "Player link", "Email thumbnail link").
 * `id` is read as `customer_id`; `campaign_slug` is optional (it only picks a SEEN_CAMPAIGNS
 * mapping). Unknown extra fields are allowed: campaigns may map them.
 */
export const seenCallbackSchema = z
  .looseObject({
    customer_id: z.optional(id),
    id: z.optional(id),
    campaign_slug: z.optional(text),
    landing_page_url: z.optional(text),
    video_url: z.optional(text),
    thumbnail_url: z.optional(text),
    email_thumbnail_url: z.optional(text),
    player_url: z.optional(text),
  })
  .check(
    z.refine((callback) => callback.customer_id !== undefined || callback.id !== undefined, {
      message: 'required (or id, as a SEEN 2.0 webhook node sends it)',
      path: ['customer_id'],
    }),
    z.refine((callback) => callback.customer_id === undefined || callback.id === undefined || callback.customer_id === callback.id, {
      message: 'differs from customer_id: send one of them',
      path: ['id'],
    }),
  );
export type SeenCallback = z.infer<typeof seenCallbackSchema>;

/** Campaign slugs as SEEN issues them; they end up in a URL path, so nothing else is let through. */
export const campaignSlugSchema = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, 'must be letters, digits, - or _'));

const email = z.string().check(z.refine((value) => value === '' || /^[^\s@]+@[^\s@]+$/.test(value), 'not an email address'));

/**
 * One receiver for SEEN's legacy receivers API (seed 000; docs.seen.io, "SEEN API 1.0 Legacy",
 * Create a new Receiver): `first_name` is required by SEEN, `phone` is E.164, `extra_args` an
 * object; `customer_id` is the braze_id SEEN echoes back in its callback. Other personalisation
 * fields are forwarded as they are. What SEEN would refuse is refused here, by index, so that it
 * never reaches a combined call.
 */
export const seenReceiverSchema = z.looseObject({
  customer_id: id,
  first_name: z.string().check(z.trim(), z.minLength(1, 'required by SEEN: a Braze user without one needs a Liquid default')),
  last_name: z.optional(z.string()),
  email: z.optional(email),
  phone: z.optional(z.string().check(z.regex(/^\+[1-9]\d{1,14}$/, 'not an E.164 phone number (+4712345678), as SEEN requires'))),
  extra_args: z.optional(z.record(z.string(), z.unknown())),
});

/** What the legacy queue carries: as the ingress checked it, or as an earlier version queued it (no first_name check). */
const queuedReceiverSchema = z.looseObject({
  customer_id: id,
  first_name: z.optional(z.string()),
  last_name: z.optional(z.string()),
  email: z.optional(z.string()),
});

/**
 * One data item for SEEN API 2.0 (docs.seen.io, "SEEN API 2.0 - Create Data": "ID is a required
 * field, and must be sent as a string"; one JSON object per request). `id`, or `customer_id` as a
 * legacy webhook body names it, string or number; the other fields are the project's properties,
 * sent as they are.
 */
export const seenDataReceiverSchema = z
  .looseObject({
    id: z.optional(id),
    customer_id: z.optional(id),
  })
  .check(
    z.refine((receiver) => receiver.id !== undefined || receiver.customer_id !== undefined, {
      message: 'required: SEEN 2.0 needs an id (or customer_id)',
      path: ['id'],
    }),
  );

/**
 * The same 2.0 receivers as JSON Schema can say it (`id` or `customer_id` required), for the
 * OpenAPI document: the route checks them with seenDataReceiverSchema, whose refusal names `id`.
 */
const seenDataReceiverShape = z.union([z.looseObject({ id, customer_id: z.optional(id) }), z.looseObject({ id: z.optional(id), customer_id: id })]);

/** Either version's receiver: what the OpenAPI document shows for one record. */
export const seenAnyReceiverSchema = z.union([seenReceiverSchema, seenDataReceiverShape]);

export const MAX_RECEIVERS_PER_REQUEST = 1_000;
/**
 * The request: one receiver or an array of them (a Braze webhook sends one user's; the seed shows
 * an array). Receivers are checked one by one, so a bad one is refused by index and the rest go on.
 */
export const seenReceiversRequestSchema = z.union([
  z.array(z.unknown()).check(z.minLength(1), z.maxLength(MAX_RECEIVERS_PER_REQUEST)),
  z.record(z.string(), z.unknown()),
]);

/** What the receivers ingress puts on the `seen-receivers` queue (legacy API): one campaign, at most one SEEN call's worth. */
export const seenQueueMessageSchema = z.object({
  v: z.literal(1),
  /** The flow that queued it (checked against the queue's feeding flows on delivery: fedBy). */
  flow: z.string().check(z.minLength(1)),
  requestId: z.string(),
  campaign: campaignSlugSchema,
  receivers: z.array(queuedReceiverSchema).check(z.minLength(1)),
});
export type SeenQueueMessage = z.infer<typeof seenQueueMessageSchema>;

/**
 * What the receivers ingress puts on the `seen-data` queue (SEEN API 2.0): one data item, the body
 * of one request, for the project its campaign is mapped to (the consumer looks the URL up in its
 * own SEEN_PROJECTS: a message never chooses where a token goes).
 */
export const seenDataMessageSchema = z.object({
  v: z.literal(1),
  /** The flow that queued it (checked against the queue's feeding flows on delivery: fedBy). */
  flow: z.string().check(z.minLength(1)),
  api: z.literal(2),
  requestId: z.string(),
  campaign: campaignSlugSchema,
  item: z.looseObject({ id: z.string().check(z.minLength(1)) }),
});
export type SeenDataMessage = z.infer<typeof seenDataMessageSchema>;

/** Per campaign_slug, which callback fields become which Braze attributes (SEEN_CAMPAIGNS). */
const RESERVED_ATTRIBUTES = new Set(['braze_id', 'external_id', 'user_alias', '_update_existing_only']);
const attributeMapSchema = z.record(
  z.string().check(z.minLength(1)),
  z.string().check(
    z.regex(/^[A-Za-z0-9_]{1,255}$/, 'not a valid attribute name'),
    z.refine((name) => !RESERVED_ATTRIBUTES.has(name), 'names an identifier Braze reserves'),
  ),
);
export const seenCampaignConfigSchema = z.object({
  default: z.optional(z.object({ attributes: attributeMapSchema })),
  campaigns: z.optional(z.record(z.string(), z.object({ attributes: attributeMapSchema }))),
});
export type SeenCampaignConfig = z.infer<typeof seenCampaignConfigSchema>;

/**
 * SEEN_PROJECTS: campaign slug -> the project's data endpoint URL (SEEN's Run tab). https, since a
 * token goes with every request; plain http only to this machine (a stub, npm start's sandbox).
 */
export const seenProjectsSchema = z.record(
  campaignSlugSchema,
  z.string().check(
    z.refine((value) => {
      const url = safeUrl(value);
      return url?.protocol === 'https:' || (url?.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
    }, 'not an https URL (plain http only to 127.0.0.1 or localhost)'),
  ),
);
export type SeenProjects = z.infer<typeof seenProjectsSchema>;

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
