import * as z from 'zod/mini';

const text = z.string().check(z.trim(), z.minLength(1));
const segmentName = z.string().check(z.trim(), z.minLength(1), z.maxLength(255));
/**
 * Segments one record may add (or remove). No export moves a user in or out of more at once; the
 * bound keeps a bad record's issues few (one per item otherwise: a 5 MB body of them made a 500).
 */
export const MAX_SEGMENTS_PER_LIST = 500;
const segmentList = z.optional(z.array(segmentName).check(z.maxLength(MAX_SEGMENTS_PER_LIST)));

/** One record of a Lytics audience export (seed 003): a user entering and/or leaving segments. */
export const audienceRecordSchema = z
  .object({
    external_id: text,
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
  );
export type AudienceRecord = z.infer<typeof audienceRecordSchema>;

export const AUDIENCE_FIELD = 'lytics_to_braze_audience';
/**
 * The envelope only: each record is validated on its own so one malformed record is refused with
 * its index while the rest of a backfill still goes through.
 */
export const audiencePayloadSchema = z.object({
  [AUDIENCE_FIELD]: z.array(z.unknown()).check(z.minLength(1)),
});

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
  flow: z.literal('lytics-users'),
  requestId: z.string(),
  events: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))).check(z.minLength(1)),
});
export type LyticsUsersMessage = z.infer<typeof lyticsUsersMessageSchema>;
