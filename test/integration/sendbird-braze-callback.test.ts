import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

/** What Sendbird's Braze integration posts (test/fixtures/sendbird/braze-callback.json says what is known and what is assumed). */
const callback = () =>
  (JSON.parse(readFileSync(path.join(__dirname, '../fixtures/sendbird/braze-callback.json'), 'utf8')) as { body: { events: Record<string, unknown>[] } }).body;

describe("sendbird-braze-callback: Sendbird's Braze integration pointed at the bridge, through the local runner", () => {
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' } }));
  let runner: Runner;
  const events = () => braze.requests.flatMap((r) => (r.body as { events?: Record<string, unknown>[] }).events ?? []);

  beforeAll(async () => {
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'sb-inbound', BRAZE_REST_ENDPOINT: await braze.start(), BRAZE_API_KEY: 'the-real-braze-key' },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.2 }, queueOverrides: { visibilityTimeoutSeconds: 2 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => braze.stop(),
    ),
  );
  beforeEach(() => {
    braze.requests.length = 0;
  });

  it('forwards a status event to Braze once when Sendbird posts it twice, answering each time as Braze does', async () => {
    const first = await post(runner, '/sendbird/braze/users/track', callback());
    await eventually(() => (events().length >= 1 ? true : undefined), 10_000, 'the event');
    const again = await post(runner, '/sendbird/braze/users/track', { events: [{ ...callback().events[0], time: '2024-03-05T10:15:09.000Z' }] });
    await eventually(async () => ((await queueDepth(runner, 'braze-track')) === 0 ? true : undefined), 10_000, 'queue drained');

    expect(first).toEqual({ status: 201, body: { message: 'success', events_processed: 1 } });
    expect(again).toEqual({ status: 201, body: { message: 'success', events_processed: 1 } });
    expect(events()).toEqual([callback().events[0]]);
    expect(braze.requests[0]?.headers.authorization).toBe('Bearer the-real-braze-key');
  });

  it('forwards READ after SENT of the same notification: another status is another event', async () => {
    const read = { ...callback().events[0], properties: { status: 'READ', target_id: 'campaign-7' } };

    expect((await post(runner, '/sendbird/braze/users/track', { events: [read] })).status).toBe(201);
    await eventually(() => (events().length >= 1 ? true : undefined), 10_000, 'the READ event');

    expect(events()).toEqual([read]);
  });

  it('answers 401 to a request without the inbound token, or with a Braze key, and forwards nothing', async () => {
    expect((await post(runner, '/sendbird/braze/users/track', callback(), null)).status).toBe(401);
    expect((await post(runner, '/sendbird/braze/users/track', callback(), 'the-real-braze-key')).status).toBe(401);

    // Refused before anything is queued: nothing can reach Braze later.
    expect(await queueDepth(runner, 'braze-track')).toBe(0);
    expect(braze.requests).toEqual([]);
  });

  it('refuses attributes and purchases with a 400 naming them, and forwards nothing of the request, not even its events', async () => {
    const withAttributes = await post(runner, '/sendbird/braze/users/track', {
      ...callback(),
      attributes: [{ external_id: 'sendbird-user-42', email: 'x@example.com' }],
    });
    const withPurchases = await post(runner, '/sendbird/braze/users/track', {
      purchases: [{ external_id: 'sendbird-user-42', product_id: 'p', currency: 'USD', price: 1, time: '2024-03-05T10:15:00Z' }],
    });

    expect(withAttributes.status).toBe(400);
    expect(withAttributes.body.issues).toEqual([expect.objectContaining({ path: 'attributes' })]);
    expect(withPurchases.status).toBe(400);
    expect(withPurchases.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'purchases' })]));
    // Refused before anything is queued: nothing can reach Braze later.
    expect(await queueDepth(runner, 'braze-track')).toBe(0);
    expect(braze.requests).toEqual([]);
  });
});

describe('sendbird-braze-callback with SENDBIRD_CALLBACK_EVENT_NAMES, through the local runner', () => {
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' } }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner({
      INBOUND_TOKEN: 'sb-inbound',
      BRAZE_REST_ENDPOINT: await braze.start(),
      BRAZE_API_KEY: 'braze-key',
      SENDBIRD_CALLBACK_EVENT_NAMES: 'order_shipped_notification, welcome_notification',
    });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => braze.stop(),
    ),
  );

  it('refuses an event name the deployment does not list, naming it, and takes a listed one', async () => {
    const refused = await post(runner, '/sendbird/braze/users/track', { events: [{ ...callback().events[0], name: 'account_deleted' }] });
    const taken = await post(runner, '/sendbird/braze/users/track', callback());

    expect(refused.status).toBe(400);
    expect(refused.body.issues).toEqual([expect.objectContaining({ path: 'events[0].name' })]);
    expect(taken.status).toBe(201);
    await braze.waitForRequests(1);
    expect((braze.requests[0]!.body as { events: { name: string }[] }).events.map((e) => e.name)).toEqual(['order_shipped_notification']);
  });
});
