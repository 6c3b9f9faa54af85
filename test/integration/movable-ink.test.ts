import { createHash } from 'node:crypto';
import { eventually, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const USERNAME = 'mi-user';
const PASSWORD = 'mi-pass:with colon';
const basic = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;
const now = () => new Date().toISOString();

function productViewed(overrides: Record<string, unknown> = {}) {
  return {
    events: [
      {
        external_id: 'user-1',
        name: 'Product Viewed',
        time: now(),
        properties: { title: 'Wipes', price: 1.99, categories: [{ id: 'Bathroom' }] },
        ...overrides,
      },
    ],
  };
}

function startWith(movableInkUrl: string, env: Record<string, string> = {}, queueOverrides = {}) {
  return startTestRunner(
    { INBOUND_TOKEN: 'mi-inbound', MOVABLE_INK_API_URL: movableInkUrl, MOVABLE_INK_API_USERNAME: USERNAME, MOVABLE_INK_API_PASSWORD: PASSWORD, ...env },
    { consumerOverrides: { maxBatchingWindowSeconds: 0.2 }, queueOverrides: { visibilityTimeoutSeconds: 2, maxReceiveCount: 2, ...queueOverrides } },
  );
}

describe('movable-ink-events, through the local runner', () => {
  const movableInk = new StubServer(() => ({ status: 200, body: {} }));
  let runner: Runner;
  let base: string;

  beforeAll(async () => {
    base = `${await movableInk.start()}/behavioral/key-123`;
    runner = await startWith(base);
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => movableInk.stop(),
    ),
  );
  beforeEach(() => {
    movableInk.requests.length = 0;
    movableInk.respond = () => ({ status: 200, body: {} });
  });

  it('posts one track event to the issued URL with the exact Basic header, numbers kept as numbers', async () => {
    const response = await post(runner, '/movable-ink/events', productViewed());

    expect(response).toEqual({ status: 202, body: { accepted: 1 } });
    await movableInk.waitForRequests(1);
    const [request] = movableInk.requests;
    expect(request?.path).toBe('/behavioral/key-123');
    expect(request?.headers.authorization).toBe(basic);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toEqual({
      type: 'track',
      event: 'product_viewed',
      user_id: 'user-1',
      timestamp: expect.any(Number),
      timezone: 'UTC',
      properties: { title: 'Wipes', price: 1.99, categories: [{ id: 'Bathroom' }] },
    });
  });

  it('sends an anonymous event under the md5 of the email, never the email itself', async () => {
    const response = await post(runner, '/movable-ink/events', {
      events: [{ email: ' Ada@Example.com ', name: 'Category Viewed', time: Math.floor(Date.now() / 1000) }],
    });

    expect(response.status).toBe(202);
    await movableInk.waitForRequests(1);
    const body = movableInk.requests[0]?.body as Record<string, unknown>;
    expect(body.anonymous_id).toBe(createHash('md5').update('ada@example.com').digest('hex'));
    expect(JSON.stringify(movableInk.requests[0])).not.toMatch(/ada@example\.com/i);
  });

  it('refuses an event with no identifier by index, forwards the valid one, and answers 400 when none is valid', async () => {
    const mixed = await post(runner, '/movable-ink/events', { events: [{ name: 'Product Viewed' }, productViewed().events[0]] });
    const none = await post(runner, '/movable-ink/events', { events: [{ name: 'Product Viewed' }] });

    expect(mixed.status).toBe(202);
    expect(mixed.body).toMatchObject({ accepted: 1, rejected: [{ index: 0, issues: [expect.objectContaining({ path: 'events[0].external_id' })] }] });
    expect(none.status).toBe(400);
    // The queue holds a message until its request is answered: once empty, every request has come.
    await eventually(async () => ((await queueDepth(runner, 'movable-ink')) === 0 ? true : undefined), 10_000, 'queue drained');
    expect(movableInk.requests).toHaveLength(1);
  });

  it('delivers once when Movable Ink answers 429 then 200, waiting as Retry-After asks', async () => {
    movableInk.respond = (_request, index) => (index === 0 ? { status: 429, body: {}, headers: { 'retry-after': '0' } } : { status: 200, body: {} });

    await post(runner, '/movable-ink/events', productViewed({ id: 'evt-429' }));

    await movableInk.waitForRequests(2);
    await eventually(async () => ((await queueDepth(runner, 'movable-ink')) === 0 ? true : undefined), 10_000, 'queue drained');
    expect(movableInk.requests.map((r) => (r.body as { event: string }).event)).toEqual(['product_viewed', 'product_viewed']);
  });

  it('does not send an event twice when Braze retries the webhook with the same event id', async () => {
    const body = productViewed({ id: 'dispatch-42:user-1' });

    await post(runner, '/movable-ink/events', body);
    await movableInk.waitForRequests(1);
    // Braze retries (say, our answer was lost): a later request, so another batch.
    await post(runner, '/movable-ink/events', body);
    await eventually(async () => ((await queueDepth(runner, 'movable-ink')) === 0 ? true : undefined), 10_000, 'queue drained');

    expect(movableInk.requests).toHaveLength(1);
  });

  it('parks an event Movable Ink refuses with a 4xx at once, with the status as reason', async () => {
    movableInk.respond = () => ({ status: 422, body: { error: 'unmapped event' } });

    await post(runner, '/movable-ink/events', productViewed({ name: 'Unmapped Thing', id: 'evt-422' }));

    const parked = await eventually(async () => (await peekDlq(runner, 'movable-ink')).find((m) => m.body.includes('unmapped_thing')), 10_000, 'DLQ');
    expect(parked.attributes.parked_reason).toBe('movable-ink_422');
    expect(movableInk.requests).toHaveLength(1);
  });
});

describe('a Movable Ink outage, through the local runner', () => {
  const movableInk = new StubServer(() => ({ status: 500, body: {} }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startWith(`${await movableInk.start()}/behavioral/key-123`);
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => movableInk.stop(),
    ),
  );

  it('retries, then moves the event to the DLQ after maxReceiveCount, losing nothing', async () => {
    await post(runner, '/movable-ink/events', productViewed({ id: 'evt-500' }));

    const parked = await eventually(async () => (await peekDlq(runner, 'movable-ink')).find((m) => m.body.includes('evt-500')), 20_000, 'DLQ');
    expect(JSON.parse(parked.body).call).toMatchObject({ type: 'track', event: 'product_viewed' });
    expect(movableInk.requests).toHaveLength(2 * 3); // 2 receives x (1 + 2 retries)
  });
});

describe('Movable Ink known users only, through the local runner', () => {
  const movableInk = new StubServer(() => ({ status: 200, body: {} }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startWith(`${await movableInk.start()}/behavioral/key-123`, { MOVABLE_INK_KNOWN_USERS_ONLY: 'true' });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => movableInk.stop(),
    ),
  );

  it('counts anonymous events as skipped and forwards only known users', async () => {
    const response = await post(runner, '/movable-ink/events', { events: [{ email: 'anon@example.com', name: 'Product Viewed' }, productViewed().events[0]] });

    expect(response).toEqual({ status: 202, body: { accepted: 1, skipped: 1 } });
    await eventually(async () => ((await queueDepth(runner, 'movable-ink')) === 0 ? true : undefined), 10_000, 'queue drained');
    expect(movableInk.requests.map((r) => (r.body as { user_id?: string }).user_id)).toEqual(['user-1']);
  });
});
