import { createHash } from 'node:crypto';
import { eventsToMovableInk, movableInkBody, parseIdentifyEvents, parseKeepingNumbers } from '../../../functions/movable-ink/transform';

/**
 * The README's webhook template, as Braze renders it for an anonymous user (empty external_id and
 * time_zone, time from `'now' | date: '%s'`): the bridge must accept exactly that.
 */
const rendered = `{"events": [{
  "id": "6a1f0c3e-dispatch-5f2b",
  "name": "Product Viewed",
  "time": "1701886845",
  "external_id": "",
  "email": "Shopper@Example.com",
  "time_zone": "",
  "properties": {
    "id": "56544",
    "title": "All-Purpose Cleaning Wipes",
    "price": 1.99
  }
}]}`;

describe("the README's Braze webhook template", () => {
  it('is accepted as rendered for an anonymous user: time in seconds, empty ids and zone count as absent', () => {
    const parsed = JSON.parse(rendered) as { events: unknown[] };

    const batch = eventsToMovableInk(
      parsed.events,
      { now: Date.UTC(2023, 11, 7), eventNames: {}, identifyEvents: parseIdentifyEvents('Account Created'), knownUsersOnly: false, defaultTimezone: 'UTC' },
      { flow: 'movable-ink-events', requestId: 'r-1', rawEvents: (parseKeepingNumbers(rendered) as { events: unknown[] }).events },
    );

    expect(batch.rejected).toEqual([]);
    expect(batch.messages).toHaveLength(1);
    expect(batch.messages[0]?.dedupe).toBe('movable-ink:6a1f0c3e-dispatch-5f2b');
    expect(JSON.parse(movableInkBody(batch.messages[0]!))).toEqual({
      type: 'track',
      event: 'product_viewed',
      anonymous_id: createHash('md5').update('shopper@example.com').digest('hex'),
      timestamp: 1701886845000,
      timezone: 'UTC',
      properties: { id: '56544', title: 'All-Purpose Cleaning Wipes', price: 1.99 },
    });
  });
});
