import { createHmac } from 'node:crypto';
import * as z from 'zod/mini';
import { EnvSecretStore } from '../../../functions/core/secrets';
import { callbackRequestSchema, notificationRequestSchema } from '../../../functions/sendbird/schemas';
import { verifySendbirdSignature } from '../../../functions/sendbird/status';
import {
  callbackEventsToTrackItems,
  conflictingTarget,
  notificationGroup,
  notificationToMessages,
  sendbirdBody,
  statusesToTrackItems,
} from '../../../functions/sendbird/transform';

const parse = (body: unknown) => z.parse(notificationRequestSchema, body);

describe('notificationToMessages', () => {
  it('defaults to batch mode and takes the recipient as the one target', () => {
    const [message] = notificationToMessages(parse({ template_key: 'k', recipient: 'u1' }), { requestId: 'r', maxTargetsPerMessage: 1000 });

    expect(message).toMatchObject({ mode: 'batch', targets: ['u1'], template: { key: 'k', variables: {} } });
  });

  it('splits a realtime webhook into one message per target, and a batch one into messages of the cap', () => {
    const realtime = notificationToMessages(parse({ template_key: 'k', mode: 'realtime', targets: ['a', 'b', 'c'] }), {
      requestId: 'r',
      maxTargetsPerMessage: 1000,
    });
    const batch = notificationToMessages(parse({ template_key: 'k', targets: ['a', 'b', 'c', 'd', 'e'] }), { requestId: 'r', maxTargetsPerMessage: 2 });

    expect(realtime.map((m) => m.targets)).toEqual([['a'], ['b'], ['c']]);
    expect(batch.map((m) => m.targets)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('gives a webhook with an id a dedupe key per message, and none without', () => {
    const withId = notificationToMessages(parse({ template_key: 'k', targets: ['a', 'b'], id: 'd-1' }), { requestId: 'r', maxTargetsPerMessage: 1 });
    const without = notificationToMessages(parse({ template_key: 'k', recipient: 'a' }), { requestId: 'r', maxTargetsPerMessage: 1 });

    expect(withId.map((m) => m.dedupe)).toEqual([expect.stringMatching(/^sendbird:d-1:[0-9a-f]{32}$/), expect.stringMatching(/^sendbird:d-1:[0-9a-f]{32}$/)]);
    expect(new Set(withId.map((m) => m.dedupe)).size).toBe(2);
    expect(without[0]?.dedupe).toBeUndefined();
  });

  it(
    'keys a webhook per id and target: a dispatch id shared by webhooks to different recipients dedupes none ' + 'of them, a retry to the same one is a copy',
    () => {
      const keyOf = (recipient: string) =>
        notificationToMessages(parse({ template_key: 'k', recipient, id: 'dispatch-1' }), { requestId: 'r', maxTargetsPerMessage: 100 })[0]!.dedupe;

      expect(new Set([keyOf('u1'), keyOf('u2'), keyOf('u3')]).size).toBe(3);
      expect(keyOf('u1')).toBe(keyOf('u1'));
      expect(keyOf('u1')).not.toContain('u1');
    },
  );

  it('refuses both targets and recipient, or neither, and a number recipient is kept as a string', () => {
    expect(z.safeParse(notificationRequestSchema, { template_key: 'k', recipient: 'a', targets: ['b'] }).success).toBe(false);
    expect(z.safeParse(notificationRequestSchema, { template_key: 'k' }).success).toBe(false);
    expect(parse({ template_key: 'k', recipient: 42 }).recipient).toBe('42');
  });
});

describe('notificationGroup', () => {
  it('is the same for the same template, variables (in any key order) and push template', () => {
    const a = notificationGroup(parse({ template_key: 'k', recipient: 'x', variables: { a: 1, b: { c: 2, d: 3 } } }));
    const b = notificationGroup(parse({ template_key: 'k', recipient: 'y', variables: { b: { d: 3, c: 2 }, a: 1 } }));

    expect(a).toBe(b);
  });

  it('differs when the variables, the template, the push template or the mode differ', () => {
    const base = { template_key: 'k', recipient: 'x', variables: { a: 1 } };
    const group = notificationGroup(parse(base));

    expect(notificationGroup(parse({ ...base, variables: { a: 2 } }))).not.toBe(group);
    expect(notificationGroup(parse({ ...base, template_key: 'other' }))).not.toBe(group);
    expect(notificationGroup(parse({ ...base, push_template: { title: 't', body: 'b' } }))).not.toBe(group);
    expect(notificationGroup(parse({ ...base, mode: 'realtime' }))).not.toBe(group);
  });
});

describe('sendbirdBody', () => {
  it("combines the messages' targets under their common template, as Sendbird's API takes them", () => {
    const messages = [
      ...notificationToMessages(parse({ template_key: 'k', recipient: 'a', variables: { v: 1 }, push_template: { title: 't', body: 'b' } }), {
        requestId: 'r1',
        maxTargetsPerMessage: 10,
      }),
      ...notificationToMessages(parse({ template_key: 'k', recipient: 'b', variables: { v: 1 }, push_template: { title: 't', body: 'b' } }), {
        requestId: 'r2',
        maxTargetsPerMessage: 10,
      }),
    ];

    expect(JSON.parse(sendbirdBody(messages))).toEqual({
      mode: 'batch',
      template: { key: 'k', variables: { v: 1 } },
      targets: ['a', 'b'],
      push_template: { title: 't', body: 'b' },
    });
  });
});

describe('personalised batch webhooks (per-user variables)', () => {
  const webhook = (recipient: string, variables: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    notificationToMessages(parse({ template_key: 'order-shipped', recipient, variables, ...extra }), {
      requestId: `r-${recipient}`,
      maxTargetsPerMessage: 1000,
    });

  it("puts one campaign's one-user batch webhooks in one group whatever their variables", () => {
    const groups = [webhook('u1', { order: 'A-1' }), webhook('u2', { order: 'B-2' }), webhook('u3', {})].flat().map((m) => m.group);

    expect(new Set(groups).size).toBe(1);
    expect(webhook('u1', { order: 'A-1' }, { push_template: { title: 't', body: 'b' } })[0]!.group).not.toBe(groups[0]);
    expect(webhook('u1', { order: 'A-1' }, { template_key: 'other' })[0]!.group).not.toBe(groups[0]);
  });

  it('keeps multi-target and realtime messages grouped by their variables (a multi-target message is never repeated per user)', () => {
    const many = (variables: Record<string, unknown>) =>
      notificationToMessages(parse({ template_key: 'k', targets: ['a', 'b'], variables }), { requestId: 'r', maxTargetsPerMessage: 1000 })[0]!.group;
    const realtime = (variables: Record<string, unknown>) => webhook('u1', variables, { mode: 'realtime' })[0]!.group;

    expect(many({ v: 1 })).not.toBe(many({ v: 2 }));
    expect(realtime({ v: 1 })).not.toBe(realtime({ v: 2 }));
  });

  it('writes per-user variables (template.variables.{user_id}) when the messages of a call differ', () => {
    const messages = [webhook('u1', { order: 'A-1' }), webhook('u2', { order: 'B-2' })].flat();

    expect(JSON.parse(sendbirdBody(messages))).toEqual({
      mode: 'batch',
      template: { key: 'order-shipped', variables: { u1: { order: 'A-1' }, u2: { order: 'B-2' } } },
      targets: ['u1', 'u2'],
    });
  });

  it('writes the common variables as before when they are the same (in any key order)', () => {
    const messages = [webhook('u1', { a: 1, b: 2 }), webhook('u2', { b: 2, a: 1 })].flat();

    expect(JSON.parse(sendbirdBody(messages)).template.variables).toEqual({ a: 1, b: 2 });
  });

  it('finds a target two messages give different variables (one call cannot carry both), and none otherwise', () => {
    expect(conflictingTarget([webhook('u1', { order: 'A' }), webhook('u1', { order: 'B' }), webhook('u2', { order: 'C' })].flat())).toBe('u1');
    expect(conflictingTarget([webhook('u1', { order: 'A' }), webhook('u1', { order: 'A' }), webhook('u2', { order: 'C' })].flat())).toBeUndefined();
  });
});

describe("callbackEventsToTrackItems: Sendbird's Braze callback", () => {
  const events = (body: unknown) => z.parse(callbackRequestSchema, body).events;
  const sent = { external_id: 'u1', name: 'order_shipped_notification', time: '2024-03-05T10:15:00.000Z', properties: { status: 'SENT', target_id: 'c-7' } };

  it('forwards each event as Sendbird wrote it, as a Braze custom event', () => {
    const [item] = callbackEventsToTrackItems(events({ events: [sent] }));

    expect(item?.item).toEqual({ kind: 'events', object: sent });
  });

  it('keys an event by identifiers, name and properties: the same status again is a copy, READ after SENT is not, and no user id is in the key', () => {
    const keyOf = (event: Record<string, unknown>) => callbackEventsToTrackItems(events({ events: [event] }))[0]!.dedupe;

    expect(keyOf({ ...sent, time: '2024-03-05T10:16:00.000Z' })).toBe(keyOf(sent));
    expect(keyOf({ ...sent, properties: { ...sent.properties, status: 'READ' } })).not.toBe(keyOf(sent));
    expect(keyOf({ ...sent, external_id: 'u2' })).not.toBe(keyOf(sent));
    expect(keyOf({ ...sent, name: 'other' })).not.toBe(keyOf(sent));
    expect(keyOf(sent)).toMatch(/^sendbird-callback:[0-9a-f]{40}$/);
  });

  it('refuses attributes, purchases and any other write of /users/track, naming each', () => {
    const result = z.safeParse(callbackRequestSchema, {
      events: [sent],
      attributes: [{ external_id: 'u1', email: 'x@example.com' }],
      purchases: [{ external_id: 'u1', product_id: 'p' }],
      partner: 'x',
    });

    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [['attributes'], expect.stringMatching(/^attributes are refused/)],
      [['purchases'], expect.stringMatching(/^purchases are refused/)],
      [[], expect.stringContaining('"partner"')],
    ]);
  });

  it('lets empty attributes and purchases arrays through: they write nothing', () => {
    expect(z.parse(callbackRequestSchema, { events: [sent], attributes: [], purchases: [] }).events).toEqual([sent]);
  });

  it("refuses an event without an identifier, or with a field Braze's event object does not have", () => {
    expect(z.safeParse(callbackRequestSchema, { events: [{ name: 'n', time: 't' }] }).error?.issues[0]?.path).toEqual(['events', 0, 'external_id']);
    expect(z.safeParse(callbackRequestSchema, { events: [{ ...sent, email_subscribe: 'opted_in' }] }).success).toBe(false);
  });
});

describe('statusesToTrackItems', () => {
  const now = Date.UTC(2024, 0, 15, 12, 0, 0);

  it('makes one Braze custom event per status, the configured name unless the record names one', () => {
    const { items, rejected } = statusesToTrackItems(
      [
        { user_id: 'u1', status: 'SENT', notification_id: 'n1', template_key: 'k', timestamp: 1_705_320_000 },
        { user_id: 'u1', status: 'READ', notification_id: 'n1', event_name: 'read_it' },
      ],
      { eventName: 'sendbird_notification_status', now },
    );

    expect(rejected).toEqual([]);
    expect(items.map((i) => i.item)).toEqual([
      {
        kind: 'events',
        object: {
          external_id: 'u1',
          name: 'sendbird_notification_status',
          time: '2024-01-15T12:00:00.000Z',
          properties: { status: 'SENT', notification_id: 'n1', template_key: 'k' },
        },
      },
      {
        kind: 'events',
        object: { external_id: 'u1', name: 'read_it', time: new Date(now).toISOString(), properties: { status: 'READ', notification_id: 'n1' } },
      },
    ]);
  });

  it('keys each status by user, notification and status, so a repeat is recognised and SENT and READ are not confused', () => {
    const { items } = statusesToTrackItems(
      [
        { user_id: 'u1', status: 'SENT', notification_id: 'n1' },
        { user_id: 'u1', status: 'SENT', notification_id: 'n1' },
        { user_id: 'u1', status: 'READ', notification_id: 'n1' },
      ],
      { eventName: 'e', now },
    );

    expect(items.map((i) => i.dedupe)).toEqual(['sendbird-status:u1:n1:SENT', 'sendbird-status:u1:n1:SENT', 'sendbird-status:u1:n1:READ']);
  });

  it('refuses a record with an unknown status or no notification id by index, keeping the others', () => {
    const { items, rejected } = statusesToTrackItems(
      [
        { user_id: 'u1', status: 'DELIVERED', notification_id: 'n1' },
        { user_id: 'u1', status: 'SENT' },
        { user_id: 'u2', status: 'SENT', notification_id: 'n2' },
      ],
      { eventName: 'e', now },
    );

    expect(items).toHaveLength(1);
    expect(rejected.map((r) => [r.index, r.issues[0]?.path])).toEqual([
      [0, '[0].status'],
      [1, '[1].notification_id'],
    ]);
  });
});

describe('verifySendbirdSignature', () => {
  const secrets = new EnvSecretStore({ SENDBIRD_API_TOKEN: 'api-token' });
  const raw = Buffer.from('{"user_id":"u1","status":"SENT","notification_id":"n1"}');
  const signature = createHmac('sha256', 'api-token').update(raw).digest('hex');

  it('accepts the hex HMAC-SHA256 of the raw body keyed with the API token, in either case', async () => {
    expect(await verifySendbirdSignature(raw, { 'x-sendbird-signature': signature }, secrets)).toBe(true);
    expect(await verifySendbirdSignature(raw, { 'x-sendbird-signature': signature.toUpperCase() }, secrets)).toBe(true);
  });

  it('refuses a signature over the re-serialised body: the HMAC is over the bytes as they arrived', async () => {
    const spaced = Buffer.from('{ "user_id": "u1", "status": "SENT", "notification_id": "n1" }');
    const overReserialised = createHmac('sha256', 'api-token')
      .update(JSON.stringify(JSON.parse(spaced.toString())))
      .digest('hex');

    expect(await verifySendbirdSignature(spaced, { 'x-sendbird-signature': overReserialised }, secrets)).toBe(false);
    expect(await verifySendbirdSignature(spaced, { 'x-sendbird-signature': createHmac('sha256', 'api-token').update(spaced).digest('hex') }, secrets)).toBe(
      true,
    );
  });

  it('refuses another key, another body, no header, or no API token configured', async () => {
    expect(await verifySendbirdSignature(raw, { 'x-sendbird-signature': createHmac('sha256', 'other').update(raw).digest('hex') }, secrets)).toBe(false);
    expect(await verifySendbirdSignature(Buffer.concat([raw, Buffer.from(' ')]), { 'x-sendbird-signature': signature }, secrets)).toBe(false);
    expect(await verifySendbirdSignature(raw, {}, secrets)).toBe(false);
    expect(await verifySendbirdSignature(raw, { 'x-sendbird-signature': signature }, new EnvSecretStore({}))).toBe(false);
  });
});
