import { readFixture } from '../helpers';
import { currentsBatchToOdp, odpTypeAndAction } from '../../../functions/odp/transform';

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
