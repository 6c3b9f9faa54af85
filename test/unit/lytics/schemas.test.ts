import fc from 'fast-check';
import * as z from 'zod/mini';
import { audienceRecordSchema, isKeptAudienceRecord } from '../../../functions/lytics/schemas';
import { splitAudienceBody } from '../../../functions/lytics/transform';

/**
 * `isKeptAudienceRecord` lets a record skip the schema (a backfill's cost) only when the schema
 * would take it unchanged. Records generated near that shape, on both sides of every rule the
 * schema has (identifiers, trimming, lengths, list sizes, unknown keys, empty segments), are checked
 * against the schema itself: the schema stays the contract.
 */
const segmentName = fc.oneof(
  fc.constantFrom('lytics_all', 'vip', ' padded', 'padded ', '\tvip', '', 'a'.repeat(255), 'a'.repeat(256), '\u00a0nbsp'),
  fc.string({ maxLength: 6 }),
);
const list = fc.oneof(
  fc.array(segmentName, { maxLength: 4 }),
  fc.constantFrom(
    Array.from({ length: 500 }, (_, i) => `s${i}`),
    Array.from({ length: 501 }, (_, i) => `s${i}`),
  ),
  fc.constantFrom<unknown>('vip', null, 3, [3], {}),
);
const identifier = fc.oneof(
  fc.constantFrom<unknown>('u1', ' u1', 'u1 ', '', 42, 0, null, true, ['u1'], { alias_name: 'a', alias_label: 'b' }),
  fc.string({ maxLength: 6 }),
);
const segments = fc.oneof(
  fc.record({ add: list, remove: list }, { requiredKeys: [] }),
  fc.record({ add: list, other: fc.constant('x') }, { requiredKeys: ['add'] }),
  fc.constantFrom<unknown>(null, [], 'vip', {}),
);
const record = fc.oneof(
  fc.record(
    {
      external_id: identifier,
      braze_id: identifier,
      email: identifier,
      phone: identifier,
      user_alias: identifier,
      lytics_segments: segments,
      extra: fc.constant(1),
    },
    { requiredKeys: [] },
  ),
  fc.record({ external_id: identifier, lytics_segments: segments }),
  fc.constantFrom<unknown>(null, 'record', 7, [], JSON.parse('{"__proto__":{"x":1},"external_id":"u1","lytics_segments":{"add":["a"]}}')),
);

describe('isKeptAudienceRecord: the schema skipped only where it would keep the record as it is', () => {
  it('never takes a record the schema refuses or would change (fast-check, generated records)', () => {
    fc.assert(
      fc.property(record, (value) => {
        if (!isKeptAudienceRecord(value)) return;
        const result = z.safeParse(audienceRecordSchema, value);
        expect(result.success).toBe(true);
        expect(result.data).toStrictEqual(value);
      }),
      { numRuns: 5_000 },
    );
  });

  it("takes what a backfill sends, so a backfill's records skip the schema", () => {
    for (const kept of [
      { external_id: 'bench-1', lytics_segments: { add: ['lytics_all'] } },
      { email: 'a@example.com', lytics_segments: { remove: ['vip'] } },
      { braze_id: '65f1c0ffee', lytics_segments: { add: ['a', 'b'], remove: ['c'] } },
    ])
      expect(isKeptAudienceRecord(kept)).toBe(true);
  });

  it('leaves to the schema what it would change or refuse', () => {
    for (const other of [
      { external_id: 42, lytics_segments: { add: ['a'] } }, // a number id: the schema makes it '42'
      { external_id: ' u1', lytics_segments: { add: ['a'] } }, // trimmed by the schema
      { external_id: 'u1', lytics_segments: { add: ['a '] } },
      { external_id: 'u1', email: 'a@example.com', lytics_segments: { add: ['a'] } }, // refused: two identifiers
      { external_id: 'u1', lytics_segments: { add: [] } }, // refused: no segment
      { external_id: 'u1', lytics_segments: { add: ['a'] }, extra: 1 }, // the schema drops `extra`
      { user_alias: { alias_name: 'a', alias_label: 'b' }, lytics_segments: { add: ['a'] } },
      { external_id: 'u1', lytics_segments: { add: ['a'.repeat(256)] } },
    ])
      expect(isKeptAudienceRecord(other)).toBe(false);
  });

  it('gives the same valid records and refusals with or without the shortcut', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (records) => {
        const { valid, rejected } = splitAudienceBody({ lytics_to_braze_audience: records });
        const bySchema = records.map((value) => z.safeParse(audienceRecordSchema, value));
        expect(valid).toStrictEqual(bySchema.filter((r) => r.success).map((r) => r.data));
        expect(rejected.map((r) => r.index)).toEqual(bySchema.flatMap((r, i) => (r.success ? [] : [i])));
      }),
      { numRuns: 1_000 },
    );
  });
});
