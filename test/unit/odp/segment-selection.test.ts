import { loadSettings } from '../../../functions/core/settings';
import { fieldMap, fieldsToExport, toOdpProfile } from '../../../functions/odp/profile-map';
import { parseFieldMappings, parseSegmentSelection, selectSegments } from '../../../functions/odp/segment-selection';
import { odpSettings } from '../../../functions/odp/settings';

const segments = [
  { id: 'seg-1', name: 'All Users' },
  { id: 'seg-2', name: 'VIP, gold' },
  { id: 'seg-3', name: 'Lapsed' },
];

describe('ODP_SEGMENTS: which Braze segments the sync exports', () => {
  it('all (the default) selects every segment', () => {
    expect(loadSettings(odpSettings, {}).ODP_SEGMENTS).toBe('all');
    expect(selectSegments(segments, parseSegmentSelection('all')).selected).toEqual(segments);
  });

  it('selects by id and by name (case-insensitive), in Braze order, and reports what matched nothing', () => {
    const { selected, unmatched } = selectSegments(segments, parseSegmentSelection('lapsed, seg-1, Nope'));
    expect(selected.map((s) => s.id)).toEqual(['seg-1', 'seg-3']);
    expect(unmatched).toEqual(['Nope']);
  });

  it('a JSON array names a segment whose name holds a comma', () => {
    expect(selectSegments(segments, parseSegmentSelection('["VIP, gold"]')).selected.map((s) => s.id)).toEqual(['seg-2']);
  });

  it('names that match nothing, or an empty list, select nothing (the seed: no segment selected, nothing imported)', () => {
    expect(selectSegments(segments, parseSegmentSelection('unknown')).selected).toEqual([]);
    expect(selectSegments(segments, parseSegmentSelection(' , ')).selected).toEqual([]);
  });

  it('a malformed JSON array is refused by the settings schema, naming the setting', () => {
    expect(() => loadSettings(odpSettings, { ODP_SEGMENTS: '["a", 3]' })).toThrow(/ODP_SEGMENTS/);
  });
});

describe('Braze export user -> ODP profile', () => {
  const user = {
    external_id: 'u-1',
    braze_id: 'abc',
    email: ' ada@example.com ',
    first_name: 'Ada',
    country: null,
    custom_attributes: { loyalty_tier: 'gold', points: 120, vip: true, tags: ['a'] },
  };

  it('by default maps only the email, to ODP email', () => {
    expect(toOdpProfile(user, fieldMap())).toEqual({ attributes: { email: 'ada@example.com' } });
  });

  it('adds ODP_FIELD_MAPPINGS, dotted names reading inside custom_attributes; only text, numbers and booleans', () => {
    const map = fieldMap(
      parseFieldMappings(
        '{"first_name":"first_name","external_id":"customer_id","custom_attributes.loyalty_tier":"loyalty_tier",' +
          '"custom_attributes.points":"points","custom_attributes.vip":"vip","custom_attributes.tags":"tags","country":"country"}',
      ),
    );
    expect(toOdpProfile(user, map)).toEqual({
      attributes: { email: 'ada@example.com', first_name: 'Ada', customer_id: 'u-1', loyalty_tier: 'gold', points: 120, vip: true },
    });
  });

  it('a user with no ODP identifier is skipped, unless a mapping gives it one', () => {
    const noEmail = { external_id: 'u-2', first_name: 'Bo' };
    expect(toOdpProfile(noEmail, fieldMap({ first_name: 'first_name' }))).toBeUndefined();
    expect(toOdpProfile(noEmail, fieldMap({ external_id: 'customer_id' }))).toEqual({ attributes: { customer_id: 'u-2' } });
  });

  it('asks Braze for the top-level fields the map reads, and the ids', () => {
    expect(fieldsToExport(fieldMap({ 'custom_attributes.loyalty_tier': 'loyalty_tier', first_name: 'first_name' }))).toEqual([
      'external_id',
      'braze_id',
      'email',
      'custom_attributes',
      'first_name',
    ]);
  });

  it('refuses a malformed ODP_FIELD_MAPPINGS, naming the entry and never a value', () => {
    expect(() => parseFieldMappings('{"first name":"x"}')).toThrow(/"first name" is not a Braze field name/);
    expect(() => parseFieldMappings('{"email":"odp email"}')).toThrow(/ODP_FIELD_MAPPINGS.email/);
    expect(() => parseFieldMappings('[1]')).toThrow(/JSON object/);
    expect(() => loadSettings(odpSettings, { ODP_FIELD_MAPPINGS: '{' })).toThrow(/ODP_FIELD_MAPPINGS/);
  });
});
