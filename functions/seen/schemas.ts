import * as z from 'zod/mini';

const text = z.string().check(z.trim(), z.minLength(1));
/** SEEN sends ids as strings ("101"); a number is accepted and kept as its string form. */
const id = z.pipe(z.union([text, z.number()]), z.transform((value) => String(value)));

/** SEEN "video ready" callback (seed 000). Unknown extra fields are allowed: campaigns may map them. */
export const seenCallbackSchema = z.looseObject({
  customer_id: id,
  campaign_slug: text,
  landing_page_url: z.optional(text),
  video_url: z.optional(text),
  thumbnail_url: z.optional(text),
  email_thumbnail_url: z.optional(text),
});
export type SeenCallback = z.infer<typeof seenCallbackSchema>;

/** Campaign slugs as SEEN issues them; they end up in a URL path, so nothing else is let through. */
export const campaignSlugSchema = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, 'must be letters, digits, - or _'));

/**
 * One receiver of a Braze webhook body (seed 000): `customer_id` is the braze_id SEEN echoes back
 * in its callback. Extra personalisation fields are forwarded to SEEN as they are.
 */
export const seenReceiverSchema = z.looseObject({
  customer_id: id,
  first_name: z.optional(z.string()),
  last_name: z.optional(z.string()),
  email: z.optional(z.string().check(z.refine((value) => value === '' || /^[^\s@]+@[^\s@]+$/.test(value), 'not an email address'))),
});
export type SeenReceiver = z.infer<typeof seenReceiverSchema>;

export const MAX_RECEIVERS_PER_REQUEST = 10_000;
export const seenReceiversSchema = z.array(seenReceiverSchema).check(z.minLength(1), z.maxLength(MAX_RECEIVERS_PER_REQUEST));

/** What the receivers ingress puts on the `seen-receivers` queue: one campaign, at most one SEEN call's worth. */
export const seenQueueMessageSchema = z.object({
  v: z.literal(1),
  flow: z.literal('seen-receivers'),
  requestId: z.string(),
  campaign: campaignSlugSchema,
  receivers: z.array(seenReceiverSchema).check(z.minLength(1)),
});
export type SeenQueueMessage = z.infer<typeof seenQueueMessageSchema>;

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
