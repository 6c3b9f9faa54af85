import type { CurrentsEvent, OdpEvent } from '../../../functions/odp/schemas';
import { activationToBraze, type CurrentsMapping, currentsBatchToOdp, odpTypeAndAction } from '../../../functions/odp/transform';
import { readFixture } from '../helpers';

type Fixture = { _source: string; events: unknown };
const connectorPage = () => (readFixture('odp/currents-connector-page.json') as Fixture & { events: CurrentsEvent[] }).events;
const brazeSamples = () => (readFixture('odp/currents-examples-custom-http.json') as Fixture & { events: Record<string, CurrentsEvent> }).events;
const sample = (path: string) => {
  const event = brazeSamples()[`sample-data/Custom HTTP/${path}`];
  if (!event) throw new Error(`no Braze sample ${path}`);
  return event;
};
/** The ODP event one documented Currents event becomes, the external id sent under `braze_external_id`. */
function mapped(event: unknown, mapping: CurrentsMapping = { externalIdIdentifier: 'braze_external_id' }): OdpEvent {
  const { events, rejected, withoutIdentifier } = currentsBatchToOdp([event], mapping);
  expect({ rejected, withoutIdentifier }).toEqual({ rejected: [], withoutIdentifier: {} });
  return events[0]!.event;
}

describe('Braze Currents -> ODP events: every event Braze documents', () => {
  it("turns every example of Braze's custom Currents connector page into an ODP event with an ODP identifier and data.ts = its time", () => {
    const events = connectorPage();

    const batch = currentsBatchToOdp(events, { externalIdIdentifier: 'braze_external_id' });

    expect(batch.rejected).toEqual([]);
    expect(batch.withoutIdentifier).toEqual({});
    expect(batch.events).toHaveLength(11);
    batch.events.forEach(({ event }, index) => {
      expect(Object.keys(event.identifiers).length).toBeGreaterThan(0);
      expect(Object.values(event.identifiers).every((value) => value.length > 0)).toBe(true);
      // documented field: `time`, epoch seconds
      expect(event.data.ts).toBe(events[index]!.time);
    });
    expect(batch.events.map(({ event }) => `${event.type}/${event.action}`)).toEqual([
      'in_app_message/click',
      'push/send',
      'email/open',
      'sms/delivery',
      'in_app_message/click',
      'push/send',
      'email/open',
      'sms/delivery',
      'braze_custom/custom_event_name',
      'braze_purchase/purchase',
      'braze_behaviors/session_start',
    ]);
  });

  it(
    'turns each of the 93 Custom HTTP samples Braze publishes (every channel, behaviours, subscriptions, ' + 'Canvas steps) into an ODP event, none refused',
    () => {
      const samples = Object.entries(brazeSamples());
      expect(samples).toHaveLength(93);

      for (const [path, event] of samples) {
        const batch = currentsBatchToOdp([event], { externalIdIdentifier: 'braze_external_id' });
        expect({ path, rejected: batch.rejected }).toEqual({ path, rejected: [] });
        // agentconsole.ToolInvocation has neither a user id Braze knows outside nor an email: not sent, counted.
        if (path.endsWith('agentconsole/ToolInvocation.json')) {
          expect(batch.withoutIdentifier).toEqual({ 'agentconsole.ToolInvocation': 1 });
          continue;
        }
        expect({ path, events: batch.events.length }).toEqual({ path, events: 1 });
        const odp = batch.events[0]!.event;
        expect(Object.keys(odp.identifiers).length).toBeGreaterThan(0);
        expect(odp.data.ts).toBe(event.time);
        expect(odp.type).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(odp.action).toMatch(/^[a-z][a-z0-9_]*$/);
      }
    },
  );

  it("puts every Braze field under the _braze prefix and none without it (ts is ODP's own)", () => {
    const all = [...connectorPage(), ...Object.values(brazeSamples())].map((event, index) => ({ ...event, id: `id-${index}` }));

    const { events } = currentsBatchToOdp(all, { externalIdIdentifier: 'braze_external_id' });

    expect(events.length).toBeGreaterThan(100);
    for (const { event } of events) {
      expect(Object.keys(event.data).filter((key) => key !== 'ts' && !key.startsWith('_braze_'))).toEqual([]);
    }
  });
});

describe('Braze Currents -> ODP events: each documented field', () => {
  it('custom event: properties.name is the action, properties.custom_properties goes as JSON text (connector page, Custom Event)', () => {
    const event = mapped(connectorPage()[8]);

    expect(event).toMatchObject({ type: 'braze_custom', action: 'custom_event_name' });
    expect(event.data._braze_name).toBe('custom event name');
    expect(JSON.parse(event.data._braze_custom_properties as string)).toEqual({
      'string property name': 'a',
      'number property name': 1,
      'list property name': ['a', 'b'],
    });
    expect(event.data._braze_ad_tracking_enabled).toBe(true);
  });

  it('purchase: product_id, price (a number), currency and purchase_properties (connector page, Purchase Event)', () => {
    const event = mapped(connectorPage()[9]);

    expect(event).toMatchObject({ type: 'braze_purchase', action: 'purchase' });
    expect(event.data).toMatchObject({ _braze_product_id: '1234', _braze_price: 12.34, _braze_currency: 'AED' });
    expect(JSON.parse(event.data._braze_purchase_properties as string)).toEqual({
      'string property name': 'a',
      'number property name': 1,
      'list property name': ['a', 'b'],
    });
  });

  it('session: session_id, app_id, platform (connector page, Session Start)', () => {
    const event = mapped(connectorPage()[10]);

    expect(event).toMatchObject({ type: 'braze_behaviors', action: 'session_start' });
    expect(event.data).toMatchObject({
      _braze_session_id: 'b1234567-89ab-cdef-0123-456789abcdef',
      _braze_app_id: '01234567-89ab-cdef-0123-456789abcdef',
      _braze_platform: 'ios',
    });
  });

  it('subscription change: subscription_status, channel, state_change_source (Braze sample users/behaviors/subscription/GlobalStateChange)', () => {
    const event = mapped(sample('users/behaviors/subscription/GlobalStateChange.json'));

    expect(event).toMatchObject({ type: 'braze_behaviors', action: 'global_state_change' });
    expect(event.data).toMatchObject({ _braze_subscription_status: 'Subscribed', _braze_channel: 'email', _braze_state_change_source: 'REST API' });
  });

  it('subscription group change: subscription_group_id and subscription_status (Braze sample users/behaviors/subscriptiongroup/StateChange)', () => {
    const source = sample('users/behaviors/subscriptiongroup/StateChange.json');
    const event = mapped(source);

    expect(event).toMatchObject({ type: 'braze_behaviors', action: 'state_change' });
    expect(event.data._braze_subscription_group_id).toBe(source.properties?.subscription_group_id);
    expect(event.data._braze_subscription_status).toBe(source.properties?.subscription_status);
  });

  it('email engagement: email_address is the email identifier, lower-cased; campaign_id, dispatch_id, user_agent in data (connector page, Email Open)', () => {
    const event = mapped({ ...connectorPage()[2], properties: { ...connectorPage()[2]!.properties, email_address: ' Test@Test.com ' } });

    expect(event.identifiers).toEqual({ email: 'test@test.com', braze_external_id: 'user_id' });
    expect(event.data).toMatchObject({
      _braze_campaign_id: '11234567-89ab-cdef-0123-456789abcdef',
      _braze_dispatch_id: '12345qwert',
      _braze_user_agent: expect.stringMatching(/^Mozilla/),
    });
  });

  it(
    'user: user_id is _braze_user_id; external_user_id goes under ODP_EXTERNAL_ID_IDENTIFIER and in data; ' +
      'device_id and timezone as _braze_user_* (connector page, In-App Message Click)',
    () => {
      const event = mapped(connectorPage()[0]);

      expect(event.identifiers).toEqual({ braze_external_id: 'user_id' });
      expect(event.data).toMatchObject({
        _braze_event_id: 'a1234567-89ab-cdef-0123-456789abcdef',
        _braze_event_type: 'users.messages.inappmessage.Click',
        _braze_user_id: '0123456789abcdef01234567',
        _braze_user_external_user_id: 'user_id',
        _braze_user_device_id: 'fedcba87-6543-210f-edc-ba9876543210',
        _braze_user_timezone: 'America/Chicago',
        _braze_button_id: '0',
      });
      expect(event.identifiers).not.toHaveProperty('customer_id');
    },
  );

  it('a value Braze sends as null (a nullable column) is left out, not sent as null', () => {
    const source = connectorPage()[2]!;
    const event = mapped({ ...source, properties: { ...source.properties, campaign_name: null }, user: { ...source.user, timezone: null } });

    expect(event.data).not.toHaveProperty('_braze_campaign_name');
    expect(event.data).not.toHaveProperty('_braze_user_timezone');
  });
});

describe('Braze Currents -> ODP events: identifiers ODP knows, or the event is not sent', () => {
  it(
    "without ODP_EXTERNAL_ID_IDENTIFIER, only the email identifies: the page's events with no email_address " +
      'are counted by type, never sent with identifiers {}',
    () => {
      const batch = currentsBatchToOdp(connectorPage());

      expect(batch.events.map(({ event }) => event.identifiers)).toEqual([{ email: 'test@test.com' }, { email: 'test@test.com' }]);
      expect(batch.withoutIdentifier).toEqual({
        'users.messages.inappmessage.Click': 2,
        'users.messages.pushnotification.Send': 2,
        'users.messages.sms.Delivery': 2,
        'users.behaviors.CustomEvent': 1,
        'users.behaviors.Purchase': 1,
        'users.behaviors.app.SessionStart': 1,
      });
      expect(batch.rejected).toEqual([]);
    },
  );

  it('an anonymous event (no external_user_id, no email) is not sent even with ODP_EXTERNAL_ID_IDENTIFIER set', () => {
    const source = connectorPage()[1]!;
    const anonymous = { ...source, user: { user_id: source.user!.user_id, device_id: 'device-1' } };

    const batch = currentsBatchToOdp([anonymous], { externalIdIdentifier: 'braze_external_id' });

    expect(batch.events).toEqual([]);
    expect(batch.withoutIdentifier).toEqual({ 'users.messages.pushnotification.Send': 1 });
  });

  it("keeps text within ODP's 1,024 characters: a longer value is cut, a longer identifier refused by index naming it", () => {
    const source = connectorPage()[2]!;
    const long = { ...source, id: 'long-text', properties: { ...source.properties, user_agent: 'é'.repeat(2_000) } };
    const longId = { ...source, id: 'long-id', user: { ...source.user, external_user_id: 'x'.repeat(1_025) } };

    const batch = currentsBatchToOdp([long, longId], { externalIdIdentifier: 'braze_external_id' });

    expect(batch.events.map((e) => e.id)).toEqual(['long-text']);
    expect(batch.events[0]!.event.data._braze_user_agent).toBe('é'.repeat(1_024));
    expect(batch.rejected).toEqual([
      { index: 1, issues: [expect.objectContaining({ path: 'events[1].user.external_user_id', message: expect.stringContaining('1024') })] },
    ]);
  });
});

describe('Braze Currents event types -> ODP type and action', () => {
  it.each([
    ['users.messages.email.SoftBounce', { type: 'email', action: 'soft_bounce' }],
    ['users.messages.email.MarkAsSpam', { type: 'email', action: 'mark_as_spam' }],
    ['users.messages.sms.Delivery', { type: 'sms', action: 'delivery' }],
    ['users.messages.inappmessage.Impression', { type: 'in_app_message', action: 'impression' }],
    ['users.messages.contentcard.Click', { type: 'content_card', action: 'click' }],
    ['users.messages.webhook.Send', { type: 'webhook', action: 'send' }],
    ['users.messages.line.Send', { type: 'line', action: 'send' }],
    ['users.messages.featureflag.Impression', { type: 'feature_flag', action: 'impression' }],
    ['users.behaviors.app.SessionStart', { type: 'braze_behaviors', action: 'session_start' }],
    ['users.behaviors.subscription.GlobalStateChange', { type: 'braze_behaviors', action: 'global_state_change' }],
    ['users.canvas.exit.MatchedAudience', { type: 'braze_canvas', action: 'matched_audience' }],
    ['agentconsole.AgentExecuted', { type: 'braze_agentconsole', action: 'agent_executed' }],
    ['users.messages.hologram.Beam', { type: 'hologram', action: 'beam' }],
  ])('maps %s to the documented type and action (an unknown one generically)', (eventType, expected) => {
    expect(odpTypeAndAction({ event_type: eventType })).toEqual(expected);
  });

  it('refuses an event without id, type or time by index, keeping the others', () => {
    const { events, rejected } = currentsBatchToOdp([
      { event_type: 'users.messages.email.Open', time: 1 },
      { event_type: 'users.messages.email.Open', id: 'ok', time: 1, properties: { email_address: 'a@example.com' } },
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
    const batch = activationToBraze(
      request('profile', [
        { external_id: 42, fields: { a: 1 } },
        { email: ' Ada@Example.com ', fields: { b: true } },
      ]),
    );

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

    const batch = activationToBraze(
      request('profile', [
        { external_id: 'ok', fields: fields(20) },
        { external_id: 'no', fields: fields(21) },
      ]),
    );

    expect(batch.attributes).toHaveLength(1);
    expect(batch.rejected).toEqual([{ index: 1, issues: [expect.objectContaining({ path: 'records[1].fields', message: 'at most 20 fields' })] }]);
  });

  it('refuses a record with no identifier, a bad email, or a field that names a Braze identifier', () => {
    const batch = activationToBraze(
      request('profile', [{ fields: { a: 1 } }, { email: 'not-an-email' }, { external_id: 'u', fields: { external_id: 'other' } }]),
    );

    expect(batch.attributes).toEqual([]);
    expect(batch.rejected.map((r) => r.issues[0]?.path)).toEqual(['records[0].external_id', 'records[1].email', 'records[2].fields.external_id']);
  });
});
