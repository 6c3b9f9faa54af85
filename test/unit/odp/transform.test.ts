import { readFixture } from '../helpers';
import { activationToBraze, currentsBatchToOdp, odpTypeAndAction } from '../../../functions/odp/transform';

describe('Braze Currents -> ODP events', () => {
  it("turns Braze's Currents samples (email delivery, open, click, custom event, purchase, push send) into the expected ODP events", () => {
    const batch = readFixture('odp/currents-batch.json') as { events: unknown[] };

    const { events, rejected } = currentsBatchToOdp(batch.events);

    expect(rejected).toEqual([]);
    expect(events.map((e) => e.event)).toEqual(readFixture('odp/expected-odp-events.json'));
    expect(events.map((e) => e.id)).toEqual(['a1b2c3d4-0001', 'a1b2c3d4-0002', 'a1b2c3d4-0003', 'a1b2c3d4-0004', 'a1b2c3d4-0005', 'a1b2c3d4-0006']);
  });

  it('puts every Braze field under the _braze prefix and none without it', () => {
    const { events } = currentsBatchToOdp((readFixture('odp/currents-batch.json') as { events: unknown[] }).events);

    for (const { event } of events) expect(Object.keys(event.data).every((key) => key.startsWith('_braze_'))).toBe(true);
  });

  it.each([
    ['users.messages.email.SoftBounce', { type: 'email', action: 'soft_bounce' }],
    ['users.messages.email.MarkAsSpam', { type: 'email', action: 'mark_as_spam' }],
    ['users.messages.sms.Delivery', { type: 'sms', action: 'delivery' }],
    ['users.messages.inappmessage.Impression', { type: 'in_app_message', action: 'impression' }],
    ['users.messages.contentcard.Click', { type: 'content_card', action: 'click' }],
    ['users.messages.webhook.Send', { type: 'webhook', action: 'send' }],
    ['users.behaviors.app.SessionStart', { type: 'braze_behaviors', action: 'session_start' }],
    ['users.behaviors.subscription.GlobalStateChange', { type: 'braze_behaviors', action: 'global_state_change' }],
  ])('maps %s to the documented type and action', (eventType, expected) => {
    expect(odpTypeAndAction({ event_type: eventType })).toEqual(expected);
  });

  it('refuses an event without id, type or time by index, keeping the others', () => {
    const { events, rejected } = currentsBatchToOdp([
      { event_type: 'users.messages.email.Open', time: 1 },
      { event_type: 'users.messages.email.Open', id: 'ok', time: 1 },
      { id: 'x', time: 1 },
    ]);

    expect(events.map((e) => e.id)).toEqual(['ok']);
    expect(rejected.map((r) => [r.index, r.issues[0]?.path])).toEqual([
      [0, 'events[0].id'],
      [2, 'events[2].event_type'],
    ]);
  });
});

describe('ODP activation -> Braze', () => {
  const request = (target: 'profile' | 'campaign' | 'canvas', records: unknown[]) => ({ target, records, campaign_id: 'c', canvas_id: 'v' });

  it('makes attribute objects for a profile update, keyed by external_id or else the lower-cased email', () => {
    const batch = activationToBraze(request('profile', [{ external_id: 42, fields: { a: 1 } }, { email: ' Ada@Example.com ', fields: { b: true } }]));

    expect(batch.rejected).toEqual([]);
    expect(batch.attributes).toEqual([
      { kind: 'attributes', object: { external_id: '42', a: 1 } },
      { kind: 'attributes', object: { email: 'ada@example.com', b: true } },
    ]);
  });

  it('makes trigger recipients for a campaign or Canvas, with their fields', () => {
    const batch = activationToBraze(request('campaign', [{ external_id: 'u1', fields: { score: 9 } }, { email: 'b@example.com' }]));

    expect(batch.recipients).toEqual([
      { external_user_id: 'u1', fields: { score: 9 } },
      { email: 'b@example.com', fields: {} },
    ]);
  });

  it('accepts exactly 20 fields and refuses 21, naming the record', () => {
    const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));

    const batch = activationToBraze(request('profile', [{ external_id: 'ok', fields: fields(20) }, { external_id: 'no', fields: fields(21) }]));

    expect(batch.attributes).toHaveLength(1);
    expect(batch.rejected).toEqual([{ index: 1, issues: [expect.objectContaining({ path: 'records[1].fields', message: 'at most 20 fields' })] }]);
  });

  it('refuses a record with no identifier, a bad email, or a field that names a Braze identifier', () => {
    const batch = activationToBraze(request('profile', [{ fields: { a: 1 } }, { email: 'not-an-email' }, { external_id: 'u', fields: { external_id: 'other' } }]));

    expect(batch.attributes).toEqual([]);
    expect(batch.rejected.map((r) => r.issues[0]?.path)).toEqual(['records[0].external_id', 'records[1].email', 'records[2].fields.external_id']);
  });
});
