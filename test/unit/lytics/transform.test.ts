import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { PermanentDeliveryError } from '../../../functions/core/errors';
import { audiencePayloadSchema, brazeProfileSchema, lyticsUsersMessageSchema } from '../../../functions/lytics/schemas';
import { mergeAudienceRecords, profileToLyticsEvent, splitAudienceBody, splitAudienceRecords } from '../../../functions/lytics/transform';
import { collectRefusals, rejectedCount } from '../../../functions/lytics/users-delivery';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/lytics', name), 'utf8')) as unknown;

describe('Lytics audience export -> Braze lytics_segments', () => {
  it('turns the seed export into one attribute object per user, users created when unknown', () => {
    const payload = z.parse(audiencePayloadSchema, fixture('audience.json'));

    const { valid, rejected } = splitAudienceBody(payload);
    const items = mergeAudienceRecords(valid);

    expect(rejected).toEqual([]);
    expect(items).toEqual([
      { kind: 'attributes', object: { external_id: 'ABC124ID', lytics_segments: { add: ['lytics_all', 'lytics_new'] } } },
      { kind: 'attributes', object: { external_id: 'XYZ234ID', lytics_segments: { add: ['lytics_known'], remove: ['lytics_new'] } } },
    ]);
    for (const item of items) expect(item.object).not.toHaveProperty('_update_existing_only');
  });

  it('merges records of the same user into one object, keeping first-seen user order', () => {
    const items = mergeAudienceRecords([
      { external_id: 'u1', lytics_segments: { add: ['a'] } },
      { external_id: 'u2', lytics_segments: { add: ['x'] } },
      { external_id: 'u1', lytics_segments: { add: ['b'] } },
    ]);

    expect(items.map((i) => i.object)).toEqual([
      { external_id: 'u1', lytics_segments: { add: ['a', 'b'] } },
      { external_id: 'u2', lytics_segments: { add: ['x'] } },
    ]);
  });

  it('lets a later remove of a segment win over an earlier add', () => {
    const items = mergeAudienceRecords([
      { external_id: 'u1', lytics_segments: { add: ['vip', 'new'] } },
      { external_id: 'u1', lytics_segments: { remove: ['new'] } },
    ]);

    expect(items[0]?.object).toEqual({ external_id: 'u1', lytics_segments: { add: ['vip'], remove: ['new'] } });
  });

  it('lets a later add win over an earlier remove', () => {
    const items = mergeAudienceRecords([
      { external_id: 'u1', lytics_segments: { remove: ['churn_risk'] } },
      { external_id: 'u1', lytics_segments: { add: ['churn_risk'] } },
    ]);

    expect(items[0]?.object).toEqual({ external_id: 'u1', lytics_segments: { add: ['churn_risk'] } });
  });

  it('treats a segment both added and removed in one record as removed', () => {
    const items = mergeAudienceRecords([{ external_id: 'u1', lytics_segments: { add: ['s'], remove: ['s'] } }]);

    expect(items[0]?.object).toEqual({ external_id: 'u1', lytics_segments: { remove: ['s'] } });
  });

  it('merges a backfill of one record per user per audience down to one object per user', () => {
    const records = Array.from({ length: 3_000 }, (_, i) => ({ external_id: `u${i % 1_000}`, lytics_segments: { add: [`aud_${Math.floor(i / 1_000)}`] } }));

    const items = mergeAudienceRecords(records);

    expect(items).toHaveLength(1_000);
    expect(items[7]?.object).toEqual({ external_id: 'u7', lytics_segments: { add: ['aud_0', 'aud_1', 'aud_2'] } });
  });

  it('refuses malformed records by index, naming the field, and keeps the rest', () => {
    const { valid, rejected } = splitAudienceRecords([
      { external_id: 'ok', lytics_segments: { add: ['a'] } },
      { lytics_segments: { add: ['a'] } },
      { external_id: 'x', lytics_segments: {} },
      { external_id: 'y', lytics_segments: { add: ['fine', 42] } },
      'not an object',
    ]);

    expect(valid.map((r) => r.external_id)).toEqual(['ok']);
    expect(rejected.map((r) => r.index)).toEqual([1, 2, 3, 4]);
    expect(rejected[0]?.issues[0]?.path).toBe('lytics_to_braze_audience[1].external_id');
    expect(rejected[1]?.issues[0]?.path).toBe('lytics_to_braze_audience[2].lytics_segments');
    expect(rejected[2]?.issues[0]?.path).toBe('lytics_to_braze_audience[3].lytics_segments.add[1]');
    expect(rejected[3]?.issues[0]?.path).toBe('lytics_to_braze_audience[4]');
  });

  it('refuses an envelope without records, and a body that is neither a record nor an envelope', () => {
    expect(splitAudienceBody({ lytics_to_braze_audience: [] })).toEqual({
      valid: [],
      rejected: [{ index: 0, issues: [{ path: 'lytics_to_braze_audience', message: 'expected a non-empty array of records' }] }],
      count: 1,
    });
    expect(splitAudienceBody({ audience: [{}] }).valid).toEqual([]);
    expect(z.safeParse(audiencePayloadSchema, []).success).toBe(false);
  });
});

describe('Lytics audience records as Lytics sends them', () => {
  const segments = { add: ['vip'] };

  it.each([
    ['external_id', { external_id: 'e-1' }],
    ['braze_id', { braze_id: '5e8f0a1b2c3d4e5f6a7b8c9d' }],
    ['email', { email: 'ada@example.com' }],
    ['phone', { phone: '+15551231234' }],
    ['user_alias', { user_alias: { alias_name: 'lytics-42', alias_label: 'lytics_id' } }],
  ])('carries a record named by %s to Braze under that identifier, and nothing else', (_key, identifier) => {
    const { valid, rejected } = splitAudienceBody({ ...identifier, lytics_segments: segments });

    expect(rejected).toEqual([]);
    expect(mergeAudienceRecords(valid)).toEqual([{ kind: 'attributes', object: { ...identifier, lytics_segments: segments } }]);
  });

  it('keeps a numeric external id as its digits', () => {
    expect(mergeAudienceRecords(splitAudienceBody({ external_id: 1234567, lytics_segments: segments }).valid)[0]?.object).toEqual({
      external_id: '1234567',
      lytics_segments: segments,
    });
  });

  it('refuses a record with two identifiers (Braze would write the second as an attribute), naming the field', () => {
    const { valid, rejected } = splitAudienceBody({ external_id: 'e-1', email: 'ada@example.com', lytics_segments: segments });

    expect(valid).toEqual([]);
    expect(rejected).toEqual([
      { index: 0, issues: [{ path: 'external_id', message: 'give exactly one of external_id, braze_id, email, phone or user_alias' }] },
    ]);
  });

  it('merges per identifier: the same value under two identifiers is two users', () => {
    const items = mergeAudienceRecords(
      splitAudienceBody([
        { email: 'x@example.com', lytics_segments: { add: ['a'] } },
        { external_id: 'x@example.com', lytics_segments: { add: ['b'] } },
        { email: 'x@example.com', lytics_segments: { remove: ['a'] } },
      ]).valid,
    );

    expect(items.map((item) => item.object)).toEqual([
      { email: 'x@example.com', lytics_segments: { remove: ['a'] } },
      { external_id: 'x@example.com', lytics_segments: { add: ['b'] } },
    ]);
  });

  it('takes one record, the envelope, or an array of records and envelopes, refused records named where they stand', () => {
    const body = [
      { external_id: 'r-1', lytics_segments: segments },
      { lytics_to_braze_audience: [{ email: 'a@example.com', lytics_segments: segments }, { lytics_segments: segments }] },
      { phone: '', lytics_segments: segments },
    ];

    const { valid, rejected, count } = splitAudienceBody(body);

    expect(count).toBe(4);
    expect(valid.map((record) => record.external_id ?? record.email)).toEqual(['r-1', 'a@example.com']);
    expect(rejected.map((r) => [r.index, r.issues[0]?.path])).toEqual([
      [2, '[1].lytics_to_braze_audience[1].external_id'],
      [3, '[2].phone'],
    ]);
    expect(splitAudienceBody({ external_id: 'one', lytics_segments: segments }).valid).toHaveLength(1);
  });
});

describe('Lytics collect answers: rows it says it rejected are not delivered', () => {
  const message = (id: string) => ({ v: 1 as const, flow: 'lytics-users' as const, requestId: id, events: [{ braze_id: id }] });
  // Lytics API reference, Data Upload: {"status": 200, "message": "success", "data": {"message_count", "rejected_count"}}.
  const answer = (rejected: number) => JSON.stringify({ status: 200, message: 'success', data: { message_count: 2, rejected_count: rejected } });

  it('reads rejected_count, and 0 from an answer that says nothing readable', () => {
    expect(rejectedCount(answer(1))).toBe(1);
    expect(rejectedCount('{"status":200}')).toBe(0);
    expect(rejectedCount('not json')).toBe(0);
  });

  it('delivers a call Lytics rejected nothing of', () => {
    expect(collectRefusals([message('a'), message('b')], answer(0))).toEqual([]);
  });

  it("parks the call's one message when Lytics rejected rows of it", () => {
    const only = message('a');

    expect(collectRefusals([only], answer(1))).toEqual([{ body: only, reason: 'lytics_rejected', records: 1, bodyIndex: 0 }]);
  });

  it('has the core bisect a combined call, since Lytics does not say which rows it rejected', () => {
    expect(() => collectRefusals([message('a'), message('b')], answer(1))).toThrow(PermanentDeliveryError);
  });
});

describe('Braze webhook profile -> Lytics braze_users event', () => {
  it('forwards the seed profile field for field', () => {
    const profile = z.parse(brazeProfileSchema, fixture('profile.json'));

    const event = profileToLyticsEvent(profile);

    expect(event).toEqual(fixture('profile.json'));
    expect(z.safeParse(lyticsUsersMessageSchema, { v: 1, flow: 'lytics-users', requestId: 'r', events: [event] }).success).toBe(true);
  });

  it('leaves out fields Braze rendered empty so they never blank Lytics data', () => {
    const profile = z.parse(brazeProfileSchema, { braze_id: 'b1', first_name: '', city: '  ', email: 'a@example.com', language: null });

    expect(profileToLyticsEvent(profile)).toEqual({ braze_id: 'b1', email: 'a@example.com' });
  });

  it('requires braze_id and refuses nested objects', () => {
    const missing = z.safeParse(brazeProfileSchema, { email: 'a@example.com' });
    const nested = z.safeParse(brazeProfileSchema, { braze_id: 'b', address: { city: 'x' } });

    expect(missing.success).toBe(false);
    expect(missing.error?.issues[0]?.path).toEqual(['braze_id']);
    expect(nested.success).toBe(false);
    expect(nested.error?.issues[0]?.path).toEqual(['address']);
  });
});
