import { createHash } from 'node:crypto';
import { eventsToMovableInk, movableInkBody, parseIdentifyEvents, parseKeepingNumbers } from '../../../functions/movable-ink/transform';
import { readmeBlock } from '../../support/readme';

/**
 * What Braze puts for each Liquid output of the template, for an anonymous user (empty external_id
 * and time_zone, time from `'now' | date: '%s'`). An output docs/partners.md adds that is not here fails
 * the test, so the list grows with the template.
 */
const anonymousUser: Record<string, string> = {
  'campaign.${dispatch_id}': '6a1f0c3e-dispatch',
  '${braze_id}': '5f2b',
  "'now' | date: '%s'": '1701886845',
  '${user_id}': '',
  '${email_address}': 'Shopper@Example.com',
  '${time_zone}': '',
  'event_properties.${id}': '56544',
  'event_properties.${title}': 'All-Purpose Cleaning Wipes',
  'event_properties.${price} | default: 0': '1.99',
};

/** docs/partners.md's webhook body with each `{{ output }}` replaced as Braze renders it. */
function renderReadmeTemplate(values: Record<string, string>): string {
  return readmeBlock('**Braze webhook to Movable Ink**', 'liquid').replace(/\{\{\s*(.*?)\s*\}\}(?!\})/g, (_all, output: string) => {
    const value = values[output];
    if (value === undefined) throw new Error(`docs/partners.md's template has {{${output}}}, which this test does not render`);
    return value;
  });
}

describe('the Braze webhook template of docs/partners.md', () => {
  it('is accepted as rendered for an anonymous user: time in seconds, empty ids and zone count as absent', () => {
    const rendered = renderReadmeTemplate(anonymousUser);
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
