import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { ConfigError } from '../../../functions/core/errors';
import { loadSettings } from '../../../functions/core/settings';
import { type MovableInkMessage, movableInkMessageSchema, movableInkRequestSchema } from '../../../functions/movable-ink/schemas';
import { movableInkSettings } from '../../../functions/movable-ink/settings';
import {
  anonymousId,
  EPOCH_MS_THRESHOLD,
  eventsToMovableInk,
  eventTimeMs,
  MAX_EVENT_AGE_MS,
  type MovableInkBatch,
  type MovableInkOptions,
  movableInkBody,
  parseEventNames,
  parseIdentifyEvents,
  parseKeepingNumbers,
  snakeCase,
} from '../../../functions/movable-ink/transform';
import { errorThrownBy, readFixture } from '../helpers';

/** A fixed clock: 2023-12-20T00:00:00Z, two weeks after the seed's events (2023-12-06T19:20:45+01:00). */
const NOW = Date.UTC(2023, 11, 20);
const SEED_TIME = '2023-12-06T19:20:45+01:00';
const SEED_TIME_MS = 1701886845000;
/** md5 hex of "a@b.com", computed once with node's crypto and written down here. */
const MD5_A_AT_B = '357a20e8c56e69d6f9734d23ef9517e8';
/** md5 hex of "test@braze.com", the seed's email. */
const MD5_TEST_AT_BRAZE = 'e3933077e3267e7db2d79322a49a0117';

const optionsWith = (overrides: Partial<MovableInkOptions> = {}): MovableInkOptions => ({
  now: NOW,
  eventNames: {},
  identifyEvents: parseIdentifyEvents('Account Created'),
  knownUsersOnly: false,
  defaultTimezone: 'UTC',
  ...overrides,
});

const transform = (events: readonly unknown[], overrides: Partial<MovableInkOptions> = {}, rawEvents?: readonly unknown[]): MovableInkBatch =>
  eventsToMovableInk(events, optionsWith(overrides), { flow: 'movable-ink-events', requestId: 'req-1', ...(rawEvents ? { rawEvents } : {}) });

/** The one message of a batch where every event was accepted. */
const onlyMessage = (batch: MovableInkBatch): MovableInkMessage => {
  expect(batch.rejected).toEqual([]);
  expect(batch.skipped).toBe(0);
  expect(batch.messages).toHaveLength(1);
  const [message] = batch.messages;
  if (!message) throw new Error('no message');
  return message;
};

/** The request body Movable Ink receives, parsed back. */
const bodyOf = (message: MovableInkMessage): unknown => JSON.parse(movableInkBody(message));

/** A known user's event at the seed's time; fields overridden per test. */
const knownEvent = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'Product Viewed',
  external_id: 'user-1',
  time: SEED_TIME,
  ...fields,
});

const fixtureText = (name: string): string => readFileSync(path.join(__dirname, '../../fixtures/movable-ink', name), 'utf8');

/** A fixture read the way the handler reads a request: validated events plus the same events with numbers kept as written. */
const fixtureRequest = (name: string): { events: unknown[]; rawEvents: unknown[] } => {
  const text = fixtureText(name);
  return {
    events: z.parse(movableInkRequestSchema, JSON.parse(text)).events,
    rawEvents: z.parse(movableInkRequestSchema, parseKeepingNumbers(text)).events,
  };
};

/** The properties of a fixture's first event, untouched. */
const fixtureProperties = (name: string): unknown => {
  const [event] = z.parse(movableInkRequestSchema, readFixture(`movable-ink/${name}`)).events;
  return z.parse(z.looseObject({ properties: z.optional(z.unknown()) }), event).properties;
};

describe('the seed Braze trigger events -> Movable Ink request bodies', () => {
  it.each([
    ['product-viewed.json', 'an email-only user as a track with md5(email) as anonymous_id'],
    ['category-viewed.json', 'a known user as a track with user_id'],
    ['account-created.json', 'an identify event without email as a track with empty properties'],
    ['account-created-with-email.json', 'an identify event with both ids as an identify'],
  ])('turns %s (%s) into exactly the expected body', (name) => {
    const { events, rawEvents } = fixtureRequest(name);

    const message = onlyMessage(transform(events, {}, rawEvents));

    expect(bodyOf(message)).toStrictEqual(readFixture(`movable-ink/expected/${name}`));
    expect(z.safeParse(movableInkMessageSchema, message).success).toBe(true);
  });

  it.each(['product-viewed.json', 'category-viewed.json'])('puts the properties of %s into the body text exactly as sent', (name) => {
    const { events, rawEvents } = fixtureRequest(name);

    const body = movableInkBody(onlyMessage(transform(events, {}, rawEvents)));

    expect(body).toContain(`"properties":${JSON.stringify(fixtureProperties(name))}`);
  });

  it('sends empty properties for the seed identify event that has no email', () => {
    const { events } = fixtureRequest('account-created.json');

    const body = movableInkBody(onlyMessage(transform(events)));

    expect(body).toContain('"properties":{}');
  });

  it('sends no properties with an identify', () => {
    const { events, rawEvents } = fixtureRequest('account-created-with-email.json');

    const message = onlyMessage(transform(events, {}, rawEvents));

    expect(message.properties).toBeUndefined();
    expect(movableInkBody(message)).not.toContain('properties');
  });

  it('never lets the seed email leave: only its md5 does', () => {
    const { events } = fixtureRequest('product-viewed.json');

    const message = onlyMessage(transform(events));

    expect(JSON.stringify(message).toLowerCase()).not.toContain('test@braze.com');
    expect(movableInkBody(message)).toContain(MD5_TEST_AT_BRAZE);
  });
});

describe('event names', () => {
  it.each([
    ['Product Viewed', 'product_viewed'],
    ['productViewed', 'product_viewed'],
    ['ProductViewed', 'product_viewed'],
    ['  Product   Viewed!! ', 'product_viewed'],
    ['Product-Viewed (v2)', 'product_viewed_v2'],
    ['Order #2 Placed', 'order_2_placed'],
    ['already_snake_case', 'already_snake_case'],
    ['Añadido al carrito', 'añadido_al_carrito'],
    ['Produit Consulté', 'produit_consulté'],
    ['商品を見た', '商品を見た'],
  ])('snake_cases %j as %j', (name, expected) => {
    expect(snakeCase(name)).toBe(expected);
  });

  it('keeps the vowel signs and virama of Devanagari, which are combining marks, inside the word', () => {
    expect(snakeCase('उत्पाद देखा')).toBe('उत्पाद_देखा');
  });

  it('keeps a decomposed accent (e + U+0301) on its letter', () => {
    expect(snakeCase('Cafe\u0301 Visited').normalize('NFC')).toBe('café_visited');
  });

  it('sends the snake_cased name as the track event', () => {
    const message = onlyMessage(transform([knownEvent({ name: 'Añadido al carrito' })]));

    expect(bodyOf(message)).toMatchObject({ type: 'track', event: 'añadido_al_carrito' });
  });

  it('uses the MOVABLE_INK_EVENT_NAMES map over snake_case, and snake_case for names it does not map', () => {
    const eventNames = parseEventNames('{"Product Viewed":"pdp_view"}');

    const batch = transform([knownEvent({ name: 'Product Viewed' }), knownEvent({ name: 'Category Viewed' })], { eventNames });

    expect(batch.messages.map((message) => bodyOf(message))).toMatchObject([{ event: 'pdp_view' }, { event: 'category_viewed' }]);
  });

  it('reads MOVABLE_INK_EVENT_NAMES as a JSON map, and no map when unset', () => {
    expect(parseEventNames('{"Product Viewed":"pdp_view","Añadido al carrito":"add_to_cart"}')).toEqual({
      'Product Viewed': 'pdp_view',
      'Añadido al carrito': 'add_to_cart',
    });
    expect(parseEventNames(undefined)).toEqual({});
    expect(parseEventNames('')).toEqual({});
  });

  it('refuses MOVABLE_INK_EVENT_NAMES that is not JSON, naming the variable', () => {
    const error = errorThrownBy(ConfigError, () => parseEventNames('{"Product Viewed": pdp_view}'));

    expect(error.message).toContain('MOVABLE_INK_EVENT_NAMES');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it.each(['{"Product Viewed":1}', '{"Product Viewed":""}', '{"Product Viewed":{"name":"x"}}', '["pdp_view"]', 'null', '"pdp_view"'])(
    'refuses MOVABLE_INK_EVENT_NAMES %s, which is not a map of names to non-empty strings',
    (json) => {
      const error = errorThrownBy(ConfigError, () => parseEventNames(json));

      expect(error.message).toContain('MOVABLE_INK_EVENT_NAMES');
    },
  );

  it('refuses by index an event whose name has no letter or digit', () => {
    const batch = transform([knownEvent(), knownEvent({ name: '!!!' })]);

    expect(batch.messages).toHaveLength(1);
    expect(batch.rejected).toEqual([{ index: 1, issues: [{ path: 'events[1].name', message: expect.any(String) }] }]);
  });
});

describe('event time -> timestamp in epoch milliseconds', () => {
  it.each<[string, string | number, number]>([
    ['ISO 8601 with Z', '2023-12-06T18:20:45Z', SEED_TIME_MS],
    ['ISO 8601 with +01:00', '2023-12-06T19:20:45+01:00', SEED_TIME_MS],
    ['ISO 8601 with +0100', '2023-12-06T19:20:45+0100', SEED_TIME_MS],
    ['ISO 8601 with -05:00', '2023-12-06T13:20:45-05:00', SEED_TIME_MS],
    ['ISO 8601 with fractional seconds', '2023-12-06T18:20:45.250Z', SEED_TIME_MS + 250],
    ['ISO 8601 without offset, as UTC', '2023-12-06T18:20:45', SEED_TIME_MS],
    ['epoch seconds as a number', 1701886845, SEED_TIME_MS],
    ['epoch seconds as a digit string (Liquid "now" | date: "%s")', '1701886845', SEED_TIME_MS],
    ['epoch milliseconds as a number', 1701886845000, SEED_TIME_MS],
    ['epoch milliseconds as a digit string', '1701886845000', SEED_TIME_MS],
  ])('reads %s', (_what, time, expected) => {
    expect(eventTimeMs(time, NOW)).toBe(expected);
  });

  it('takes a number just below EPOCH_MS_THRESHOLD as seconds and the threshold itself as milliseconds', () => {
    expect(eventTimeMs(EPOCH_MS_THRESHOLD - 1, NOW)).toBe((EPOCH_MS_THRESHOLD - 1) * 1000);
    expect(eventTimeMs(EPOCH_MS_THRESHOLD, NOW)).toBe(EPOCH_MS_THRESHOLD);
  });

  it('sends the event time as the timestamp', () => {
    const message = onlyMessage(transform([knownEvent({ time: '1701886845' })]));

    expect(bodyOf(message)).toMatchObject({ timestamp: SEED_TIME_MS });
  });

  it('stamps an event without time with now', () => {
    const { time: _time, ...withoutTime } = knownEvent();

    const message = onlyMessage(transform([withoutTime]));

    expect(bodyOf(message)).toMatchObject({ timestamp: NOW });
  });

  it.each(['yesterday', '06/12/2023 19:20', '2023-12-06T19:20:45+01:00 CET', '0'])('answers a message, not a time, for %j', (time) => {
    expect(typeof eventTimeMs(time, NOW)).toBe('string');
  });

  it('refuses by index an event whose time is not a time, naming events[i].time, and keeps the others', () => {
    const batch = transform([knownEvent(), knownEvent({ time: 'next tuesday' })]);

    expect(batch.messages).toHaveLength(1);
    expect(batch.rejected).toEqual([{ index: 1, issues: [{ path: 'events[1].time', message: expect.any(String) }] }]);
  });
});

describe('events older than 30 days', () => {
  it('accepts an event exactly 30 days old', () => {
    const time = NOW - MAX_EVENT_AGE_MS;

    const message = onlyMessage(transform([knownEvent({ time })]));

    expect(bodyOf(message)).toMatchObject({ timestamp: time });
  });

  it('refuses by index an event 30 days and 1 ms old, naming events[i].time', () => {
    const batch = transform([knownEvent(), knownEvent({ time: NOW - MAX_EVENT_AGE_MS - 1 })]);

    expect(batch.messages).toHaveLength(1);
    expect(batch.rejected).toEqual([{ index: 1, issues: [{ path: 'events[1].time', message: expect.stringContaining('30 days') }] }]);
  });

  it('counts 30 days as 30 × 24 hours', () => {
    expect(MAX_EVENT_AGE_MS).toBe(30 * 24 * 60 * 60 * 1000);
  });
});

describe('identity', () => {
  it('sends external_id as user_id and no anonymous_id', () => {
    const message = onlyMessage(transform([knownEvent({ external_id: 'user-1' })]));

    const body = bodyOf(message);

    expect(body).toMatchObject({ user_id: 'user-1' });
    expect(body).not.toHaveProperty('anonymous_id');
  });

  it('sends a numeric external_id as its string form', () => {
    const message = onlyMessage(transform([knownEvent({ external_id: 123456789 })]));

    expect(bodyOf(message)).toMatchObject({ user_id: '123456789' });
  });

  it('prefers external_id over the email for a track when both are sent', () => {
    const message = onlyMessage(transform([knownEvent({ external_id: 'user-1', email: 'a@b.com' })]));

    const body = bodyOf(message);

    expect(body).toMatchObject({ type: 'track', user_id: 'user-1' });
    expect(body).not.toHaveProperty('anonymous_id');
  });

  it('sends md5 of the trimmed, lower-cased email as anonymous_id when there is no external_id', () => {
    const { external_id: _externalId, ...anonymous } = knownEvent({ email: '  A@B.com ' });

    const message = onlyMessage(transform([anonymous]));

    const body = bodyOf(message);
    expect(body).toMatchObject({ anonymous_id: MD5_A_AT_B });
    expect(body).not.toHaveProperty('user_id');
  });

  it('hashes an email the same whatever its case and surrounding spaces', () => {
    expect(anonymousId('  A@B.com ')).toBe(MD5_A_AT_B);
    expect(anonymousId('a@b.com')).toBe(MD5_A_AT_B);
  });

  it('never puts the email itself in the message', () => {
    const message = onlyMessage(transform([{ name: 'Product Viewed', time: SEED_TIME, email: '  A@B.com ' }]));

    expect(JSON.stringify(message).toLowerCase()).not.toContain('a@b.com');
    expect(movableInkBody(message).toLowerCase()).not.toContain('a@b.com');
  });

  it.each([
    ['neither external_id nor email', {}],
    ['an empty external_id and no email', { external_id: '' }],
    ['a blank email and no external_id', { email: '   ' }],
  ])('refuses by index an event with %s', (_what, ids) => {
    const batch = transform([knownEvent(), { name: 'Product Viewed', time: SEED_TIME, ...ids }]);

    expect(batch.messages).toHaveLength(1);
    expect(batch.rejected).toEqual([{ index: 1, issues: [{ path: 'events[1].external_id', message: expect.any(String) }] }]);
  });

  it('refuses by index an event whose email is not an email address, naming events[i].email', () => {
    const batch = transform([knownEvent(), { name: 'Product Viewed', time: SEED_TIME, email: 'not-an-email' }]);

    expect(batch.messages).toHaveLength(1);
    expect(batch.rejected).toEqual([{ index: 1, issues: [{ path: 'events[1].email', message: expect.any(String) }] }]);
  });
});

describe('identify', () => {
  it('turns a listed event carrying external_id and email into an identify of md5(email) and user_id', () => {
    const message = onlyMessage(transform([{ name: 'Account Created', time: SEED_TIME, external_id: 'user-1', email: '  A@B.com ' }]));

    expect(bodyOf(message)).toStrictEqual({ type: 'identify', anonymous_id: MD5_A_AT_B, user_id: 'user-1', timestamp: SEED_TIME_MS, timezone: 'UTC' });
    expect(JSON.stringify(message).toLowerCase()).not.toContain('a@b.com');
  });

  it('sends a listed event that carries only external_id as a track', () => {
    const message = onlyMessage(transform([{ name: 'Account Created', time: SEED_TIME, external_id: 'user-1' }]));

    expect(bodyOf(message)).toStrictEqual({
      type: 'track',
      event: 'account_created',
      user_id: 'user-1',
      timestamp: SEED_TIME_MS,
      timezone: 'UTC',
      properties: {},
    });
  });

  it('sends a listed event that carries only an email as a track of the anonymous id', () => {
    const message = onlyMessage(transform([{ name: 'Account Created', time: SEED_TIME, email: 'a@b.com' }]));

    expect(bodyOf(message)).toMatchObject({ type: 'track', event: 'account_created', anonymous_id: MD5_A_AT_B });
  });

  it('sends an unlisted event carrying both ids as a track', () => {
    const message = onlyMessage(transform([knownEvent({ email: 'a@b.com' })], { identifyEvents: parseIdentifyEvents('Account Created') }));

    expect(bodyOf(message)).toMatchObject({ type: 'track', event: 'product_viewed' });
  });

  it('reads MOVABLE_INK_IDENTIFY_EVENTS as a comma list, trimming names and dropping empty ones', () => {
    expect(parseIdentifyEvents('Account Created, Signed Up ,')).toEqual(new Set(['Account Created', 'Signed Up']));
  });

  it('uses the configured identify list', () => {
    const identifyEvents = parseIdentifyEvents('Account Created, Signed Up ,');

    const batch = transform(
      [
        { name: 'Signed Up', time: SEED_TIME, external_id: 'user-1', email: 'a@b.com' },
        { name: 'Account Created', time: SEED_TIME, external_id: 'user-1', email: 'a@b.com' },
      ],
      { identifyEvents },
    );

    expect(batch.messages.map((message) => message.call.type)).toEqual(['identify', 'identify']);
  });
});

describe('known users only', () => {
  const events = [
    knownEvent({ name: 'Known' }),
    { name: 'Anonymous One', time: SEED_TIME, email: 'a@b.com' },
    { name: 'Anonymous Two', time: SEED_TIME, email: 'c@d.com' },
  ];

  it('counts anonymous events as skipped, neither sent nor refused, when MOVABLE_INK_KNOWN_USERS_ONLY is on', () => {
    const batch = transform(events, { knownUsersOnly: true });

    expect(batch.messages.map((message) => bodyOf(message))).toMatchObject([{ event: 'known', user_id: 'user-1' }]);
    expect(batch.skipped).toBe(2);
    expect(batch.rejected).toEqual([]);
  });

  it('sends anonymous events when it is off', () => {
    const batch = transform(events, { knownUsersOnly: false });

    expect(batch.messages.map((message) => bodyOf(message))).toMatchObject([{ event: 'known' }, { event: 'anonymous_one' }, { event: 'anonymous_two' }]);
    expect(batch.skipped).toBe(0);
  });
});

describe('properties', () => {
  it('passes nested objects, arrays, unicode and numbers through untouched', () => {
    const properties = {
      items: [
        { sku: 'A-1', qty: 2, tags: ['x', 'y'] },
        { sku: 'B-2', qty: 1, tags: [] },
      ],
      meta: { color: 'vert', nested: { deep: true, none: null } },
      title: 'Crème brûlée 🍮 — 抹茶',
      price: 1.99,
    };

    const message = onlyMessage(transform([knownEvent({ properties })]));

    expect(bodyOf(message)).toHaveProperty('properties', properties);
    expect(bodyOf(message)).toHaveProperty('properties.price', 1.99);
    expect(movableInkBody(message)).toContain('"price":1.99');
    expect(movableInkBody(message)).not.toContain('"1.99"');
  });

  it('sends empty properties for an event without properties', () => {
    const message = onlyMessage(transform([knownEvent()]));

    expect(bodyOf(message)).toHaveProperty('properties', {});
  });

  it('keeps numbers exactly as written when given the raw events parsed with parseKeepingNumbers', () => {
    const text =
      '{"events":[{"name":"Order Placed","external_id":"user-1","time":1701886845,"properties":{"total":1.10,' +
      '"order_id":12345678901234567890,"qty":1e3,"lines":[{"price":0.50}]}}]}';
    const events = z.parse(movableInkRequestSchema, JSON.parse(text)).events;
    const rawEvents = z.parse(movableInkRequestSchema, parseKeepingNumbers(text)).events;

    const message = onlyMessage(transform(events, {}, rawEvents));

    const body = movableInkBody(message);
    expect(body).toContain('"properties":{"total":1.10,"order_id":12345678901234567890,"qty":1e3,"lines":[{"price":0.50}]}');
    expect(bodyOf(message)).toMatchObject({ type: 'track', event: 'order_placed', user_id: 'user-1', timestamp: SEED_TIME_MS });
  });

  it('gives back numbers as written from parseKeepingNumbers', () => {
    const text = '{"a":1.10,"b":12345678901234567890,"c":1e3,"d":[1.50,2],"e":"1.10"}';

    expect(JSON.stringify(parseKeepingNumbers(text))).toBe(text);
  });
});

describe('timezone', () => {
  it("sends the event's time_zone", () => {
    const message = onlyMessage(transform([knownEvent({ time_zone: 'Europe/Paris' })], { defaultTimezone: 'America/New_York' }));

    expect(bodyOf(message)).toMatchObject({ timezone: 'Europe/Paris' });
  });

  it('sends the default time zone when the event has none', () => {
    const message = onlyMessage(transform([knownEvent()], { defaultTimezone: 'America/New_York' }));

    expect(bodyOf(message)).toMatchObject({ timezone: 'America/New_York' });
  });

  it("sends the event's time_zone with an identify too", () => {
    const message = onlyMessage(transform([{ name: 'Account Created', external_id: 'user-1', email: 'a@b.com', time_zone: 'Asia/Tokyo' }]));

    expect(bodyOf(message)).toMatchObject({ type: 'identify', timezone: 'Asia/Tokyo' });
  });
});

describe('the queue message', () => {
  it('carries the dedupe key movable-ink:<id> for an event with an id', () => {
    const batch = transform([knownEvent({ id: 'evt-1' }), knownEvent({ id: 42 })]);

    expect(batch.messages.map((message) => message.dedupe)).toEqual(['movable-ink:evt-1', 'movable-ink:42']);
  });

  it('carries no dedupe key for an event without id', () => {
    const message = onlyMessage(transform([knownEvent()]));

    expect(message).not.toHaveProperty('dedupe');
  });

  it('carries the version, flow and request id and matches the queue message schema', () => {
    const message = onlyMessage(transform([knownEvent({ id: 'evt-1' })]));

    expect(message).toMatchObject({ v: 1, flow: 'movable-ink-events', requestId: 'req-1' });
    expect(z.safeParse(movableInkMessageSchema, message).success).toBe(true);
  });
});

describe('a mix of valid and invalid events', () => {
  it('keeps the valid ones in order and refuses the others by index', () => {
    const events = [
      knownEvent({ name: 'First' }),
      { name: 'No Identity', time: SEED_TIME },
      { name: 'Second', time: SEED_TIME, email: 'a@b.com' },
      knownEvent({ name: 'Bad Time', time: 'soon' }),
      'not an event',
      knownEvent({ name: 'Third' }),
      knownEvent({ name: undefined }),
      knownEvent({ name: 'Too Old', time: NOW - MAX_EVENT_AGE_MS - 1 }),
    ];

    const batch = transform(events);

    expect(batch.messages.map((message) => bodyOf(message))).toMatchObject([{ event: 'first' }, { event: 'second' }, { event: 'third' }]);
    expect(batch.rejected.map((rejected) => rejected.index)).toEqual([1, 3, 4, 6, 7]);
    expect(batch.rejected.map((rejected) => rejected.issues.map((issue) => issue.path))).toEqual([
      ['events[1].external_id'],
      ['events[3].time'],
      ['events[4]'],
      ['events[6].name'],
      ['events[7].time'],
    ]);
    expect(batch.skipped).toBe(0);
  });
});

describe('Movable Ink settings', () => {
  it('defaults to identify on Account Created, every user, UTC and 2 consumers at once', () => {
    const settings = loadSettings(movableInkSettings, {});

    expect(settings).toEqual({
      MOVABLE_INK_IDENTIFY_EVENTS: 'Account Created',
      MOVABLE_INK_KNOWN_USERS_ONLY: false,
      MOVABLE_INK_DEFAULT_TIMEZONE: 'UTC',
      MOVABLE_INK_MAX_CONCURRENCY: 2,
    });
  });

  it('reads the values set', () => {
    const settings = loadSettings(movableInkSettings, {
      MOVABLE_INK_API_URL: 'https://collector.movableink-dmz.com/behavioral/key-1',
      MOVABLE_INK_EVENT_NAMES: '{"Product Viewed":"pdp_view"}',
      MOVABLE_INK_IDENTIFY_EVENTS: 'Account Created,Signed Up',
      MOVABLE_INK_KNOWN_USERS_ONLY: 'true',
      MOVABLE_INK_DEFAULT_TIMEZONE: 'Europe/Paris',
      MOVABLE_INK_MAX_CONCURRENCY: '10',
    });

    expect(settings).toEqual({
      MOVABLE_INK_API_URL: 'https://collector.movableink-dmz.com/behavioral/key-1',
      MOVABLE_INK_EVENT_NAMES: '{"Product Viewed":"pdp_view"}',
      MOVABLE_INK_IDENTIFY_EVENTS: 'Account Created,Signed Up',
      MOVABLE_INK_KNOWN_USERS_ONLY: true,
      MOVABLE_INK_DEFAULT_TIMEZONE: 'Europe/Paris',
      MOVABLE_INK_MAX_CONCURRENCY: 10,
    });
  });

  it.each([
    ['MOVABLE_INK_DEFAULT_TIMEZONE', 'Mars/Olympus_Mons'],
    ['MOVABLE_INK_MAX_CONCURRENCY', '1'],
    ['MOVABLE_INK_MAX_CONCURRENCY', '1001'],
    ['MOVABLE_INK_KNOWN_USERS_ONLY', 'yes'],
    ['MOVABLE_INK_EVENT_NAMES', '{"Product Viewed":1}'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    const error = errorThrownBy(ConfigError, () => loadSettings(movableInkSettings, { [name]: value }));

    expect(error.message).toContain(name);
  });
});
