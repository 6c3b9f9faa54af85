import * as z from 'zod/mini';
import { isJsonObject } from '../core/json-input';

const text = z.string().check(z.trim(), z.minLength(1));
const segmentName = z.string().check(z.trim(), z.minLength(1), z.maxLength(255));
/**
 * Segments one record may add (or remove). No export moves a user in or out of more at once; the
 * bound keeps a bad record's issues few (one per item otherwise: a 5 MB body of them made a 500).
 */
const MAX_SEGMENTS_PER_LIST = 500;
const segmentList = z.optional(z.array(segmentName).check(z.maxLength(MAX_SEGMENTS_PER_LIST)));

/** A Braze id or external id Lytics may hold as a number; kept as its string form. */
const idText = z.pipe(
  z.union([text, z.number()]),
  z.transform((value) => String(value)),
);
const userAlias = z.object({ alias_name: text, alias_label: text });

/**
 * The identifiers a record may name its user by, as Lytics' own Braze export does and as Braze's
 * /users/track user attributes object takes them (braze.com/docs/api/objects_filters/user_attributes_object:
 * "one of external_id, user_alias, braze_id, email or phone is required"). A record gives exactly
 * one: with two, Braze would read the second as an attribute to write (an email overwritten).
 */
export const AUDIENCE_IDENTIFIERS = ['external_id', 'braze_id', 'email', 'phone', 'user_alias'] as const;
export type AudienceIdentifier = (typeof AUDIENCE_IDENTIFIERS)[number];

/**
 * One record of a Lytics audience export: a user, named by one identifier, entering and/or leaving
 * segments. The seed's example (`{"external_id", "lytics_segments": {"add", "remove"}}`) is one of
 * them; what the Lytics webhook template of docs/partners.md writes is another.
 */
export const audienceRecordSchema = z
  .object({
    external_id: z.optional(idText),
    braze_id: z.optional(idText),
    email: z.optional(text),
    phone: z.optional(text),
    user_alias: z.optional(userAlias),
    lytics_segments: z.object({
      add: segmentList,
      remove: segmentList,
    }),
  })
  .check(
    z.refine((record) => (record.lytics_segments.add?.length ?? 0) + (record.lytics_segments.remove?.length ?? 0) > 0, {
      message: 'lists no segment to add or remove',
      path: ['lytics_segments'],
    }),
    z.refine((record) => AUDIENCE_IDENTIFIERS.filter((key) => record[key] !== undefined).length === 1, {
      message: 'give exactly one of external_id, braze_id, email, phone or user_alias',
      path: ['external_id'],
    }),
  );
export type AudienceRecord = z.infer<typeof audienceRecordSchema>;

/** A string `text` / `segmentName` keeps as it is: not empty, no whitespace at either end (z.trim would change it), at most `max` long. */
const keptText = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max && value.trim() === value;
const isPlainObject = (value: unknown): value is Record<string, unknown> => isJsonObject(value) && Object.getPrototypeOf(value) === Object.prototype;
const keptSegments = (value: unknown): value is string[] => {
  if (!Array.isArray(value) || value.length > MAX_SEGMENTS_PER_LIST) return false;
  for (const name of value) if (!keptText(name, 255)) return false;
  return true;
};

/**
 * True when `audienceRecordSchema` would accept `record` and return it unchanged (the same keys and
 * values): one string identifier (external_id, braze_id, email or phone) already trimmed, and
 * `lytics_segments` with `add` and/or `remove` lists of trimmed names, at least one name, no other
 * key. What a backfill sends, record after record; such a record is taken as it is, and anything
 * else (a number id, an alias, whitespace, an unknown key, a refusal) goes through the schema, which
 * stays the contract. Checking this shape is about a tenth of the schema's cost on a cold process
 * (docs/benchmarks.md); test/unit/lytics/schemas.test.ts checks, on generated records, that it never
 * accepts what the schema refuses or would change.
 */
export function isKeptAudienceRecord(record: unknown): record is AudienceRecord {
  if (!isPlainObject(record)) return false;
  let identifiers = 0;
  let segments: unknown;
  for (const key in record) {
    const value = record[key];
    if (key === 'lytics_segments') segments = value;
    else if ((key === 'external_id' || key === 'braze_id' || key === 'email' || key === 'phone') && keptText(value, Number.POSITIVE_INFINITY)) identifiers++;
    else return false;
  }
  if (identifiers !== 1 || !isPlainObject(segments)) return false;
  let names = 0;
  for (const key in segments) {
    const list = segments[key];
    if ((key !== 'add' && key !== 'remove') || !keptSegments(list)) return false;
    names += list.length;
  }
  return names > 0;
}

export const AUDIENCE_FIELD = 'lytics_to_braze_audience';
/** The seed's envelope: `{"lytics_to_braze_audience": [record, ...]}`, its records checked one by one. */
const audienceEnvelopeSchema = z.object({
  [AUDIENCE_FIELD]: z.array(audienceRecordSchema).check(z.minLength(1)),
});

/**
 * What the route's body may be (SPEC section 2, lytics-audiences): the envelope, one record, or a
 * JSON array of records or of envelopes (the Lytics webhook job's "Batch Events", which "send events
 * as an array", docs.lytics.com/docs/webhooks). Each record is checked on its own (the exported
 * `audienceItemSchema`, a record or an envelope), so one malformed record is refused with its index
 * while the rest of a backfill still goes through.
 */
export const audiencePayloadSchema = z.union([z.array(z.unknown()).check(z.minLength(1)), z.record(z.string(), z.unknown())]);
/** One item of the body (or the body itself): a record or an envelope of records. */
export const audienceItemSchema = z.union([audienceEnvelopeSchema, audienceRecordSchema]);

/**
 * A Braze webhook's user profile (seed 003 example body). `braze_id` identifies the user in
 * Lytics; every other field is forwarded as Braze rendered it.
 */
export const brazeProfileSchema = z.catchall(
  z.object({
    braze_id: text,
    email: z.optional(z.string()),
  }),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
);
export type BrazeProfile = z.infer<typeof brazeProfileSchema>;

/** What the lytics-users ingress queues: profiles ready for the collect API. */
export const lyticsUsersMessageSchema = z.object({
  v: z.literal(1),
  /** The flow that queued it (checked against the queue's feeding flows on delivery: fedBy). */
  flow: z.string().check(z.minLength(1)),
  requestId: z.string(),
  events: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))).check(z.minLength(1)),
});
export type LyticsUsersMessage = z.infer<typeof lyticsUsersMessageSchema>;
