import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { audiencePayloadSchema, brazeProfileSchema, lyticsUsersMessageSchema } from '../../../functions/lytics/schemas';
import { mergeAudienceRecords, profileToLyticsEvent, splitAudienceRecords } from '../../../functions/lytics/transform';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/lytics', name), 'utf8')) as unknown;

describe('Lytics audience export -> Braze lytics_segments', () => {
  it('turns the seed export into one attribute object per user, users created when unknown', () => {
    const payload = z.parse(audiencePayloadSchema, fixture('audience.json'));

    const { valid, rejected } = splitAudienceRecords(payload.lytics_to_braze_audience);
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

  it('refuses an envelope without records', () => {
    expect(z.safeParse(audiencePayloadSchema, { lytics_to_braze_audience: [] }).success).toBe(false);
    expect(z.safeParse(audiencePayloadSchema, { audience: [{}] }).success).toBe(false);
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
