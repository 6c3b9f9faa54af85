import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const seedCallback = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/seen/callback.json'), 'utf8')) as Record<string, unknown>;

function callback(customerId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...seedCallback, customer_id: customerId, ...overrides };
}

describe('SEEN callback to Braze /users/track, through the local runner', () => {
  const braze = new StubServer();
  let runner: Runner;

  beforeAll(async () => {
    const brazeUrl = await braze.start();
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'seen-inbound-test-token', BRAZE_REST_ENDPOINT: brazeUrl, BRAZE_API_KEY: 'braze-test-key', BRAZE_MAX_OBJECTS_PER_REQUEST: '10' },
      {
        consumerOverrides: { maxBatchingWindowSeconds: 0.3 },
        // Longer than any in-process retry wait, as AWS's 6x rule ensures; short enough to keep tests quick.
        queueOverrides: { visibilityTimeoutSeconds: 5, maxReceiveCount: 2 },
      },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => braze?.stop(),
    ),
  );
  beforeEach(() => {
    braze.requests.length = 0;
    braze.respond = () => ({ status: 201, body: { message: 'success', attributes_processed: 1 } });
  });

  it('turns the seed callback into exactly the attribute the Data Transformation built', async () => {
    const response = await post(runner, '/seen/callback', seedCallback);

    expect(response).toEqual({ status: 202, body: { accepted: 1 } });
    await braze.waitForRequests(1);
    const [request] = braze.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/users/track');
    expect(request?.headers.authorization).toBe('Bearer braze-test-key');
    expect(request?.body).toEqual({
      attributes: [
        {
          braze_id: '101',
          _update_existing_only: true,
          landing_page_url: seedCallback.landing_page_url,
          email_thumbnail_url: seedCallback.email_thumbnail_url,
        },
      ],
    });
    await eventually(async () => ((await queueDepth(runner, 'braze-track')) === 0 ? true : undefined), 5_000, 'queue drained');
  });

  it('answers 400 for bad JSON and enqueues nothing', async () => {
    const response = await post(runner, '/seen/callback', '{"customer_id": "101",');

    expect(response.status).toBe(400);
    expect(response.body.error).toBe('body is not valid JSON');
    expect(await queueDepth(runner, 'braze-track')).toBe(0);
    expect(braze.requests).toHaveLength(0);
  });

  it('answers 400 naming the missing user id and enqueues nothing', async () => {
    const response = await post(runner, '/seen/callback', { landing_page_url: 'x' });

    expect(response.status).toBe(400);
    const paths = (response.body.issues as { path: string }[]).map((issue) => issue.path);
    expect(paths).toEqual(['customer_id']);
    expect(await queueDepth(runner, 'braze-track')).toBe(0);
  });

  it('takes a callback without campaign_slug, mapping the default attributes', async () => {
    const { campaign_slug: _dropped, ...withoutSlug } = callback('no-slug');

    expect((await post(runner, '/seen/callback', withoutSlug)).status).toBe(202);

    await braze.waitForRequests(1);
    expect(braze.requests[0]?.body).toEqual({
      attributes: [
        {
          braze_id: 'no-slug',
          _update_existing_only: true,
          landing_page_url: seedCallback.landing_page_url,
          email_thumbnail_url: seedCallback.email_thumbnail_url,
        },
      ],
    });
  });

  it('refuses a link that is not https, naming the field, and enqueues nothing', async () => {
    const response = await post(runner, '/seen/callback', callback('plain-http', { email_thumbnail_url: 'http://motions.seen.io/t.jpg' }));

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([{ path: 'email_thumbnail_url', message: 'a link must be https' }]);
    expect(await queueDepth(runner, 'braze-track')).toBe(0);
  });

  it('accepts Authorization: Basic with the inbound token as the password, as SEEN offers, and refuses another password', async () => {
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const send = (authorization: string) =>
      fetch(`${runner.url}/seen/callback`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(callback('basic-1')),
      });

    const accepted = await send(basic('seen', 'seen-inbound-test-token'));
    const refused = await send(basic('seen', 'not-the-token'));

    expect(accepted.status).toBe(202);
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain('seen-inbound-test-token');
    await braze.waitForRequests(1);
    expect(braze.requests).toHaveLength(1);
  });

  it('answers 400 when a field the campaign maps is missing', async () => {
    const { email_thumbnail_url: _dropped, ...withoutThumbnail } = seedCallback;

    const response = await post(runner, '/seen/callback', withoutThumbnail);

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: 'email_thumbnail_url' })]);
  });

  it('answers 401 for a wrong or missing token and enqueues nothing', async () => {
    const wrong = await post(runner, '/seen/callback', seedCallback, 'not-the-token');
    const missing = await post(runner, '/seen/callback', seedCallback, null);

    expect(wrong.status).toBe(401);
    expect(missing.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toContain('seen-inbound-test-token');
    expect(await queueDepth(runner, 'braze-track')).toBe(0);
  });

  it('accepts the token as a query parameter for senders that can only set a URL', async () => {
    const response = await fetch(`${runner.url}/seen/callback?token=seen-inbound-test-token`, { method: 'POST', body: JSON.stringify(callback('q-1')) });

    expect(response.status).toBe(202);
    await braze.waitForRequests(1);
  });

  it('combines many callbacks into calls of at most BRAZE_MAX_OBJECTS_PER_REQUEST objects, none lost', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `user-${i}`);

    const responses = await Promise.all(ids.map((id) => post(runner, '/seen/callback', callback(id))));

    expect(responses.every((r) => r.status === 202)).toBe(true);
    const delivered = await eventually(() => {
      const seen = braze.requests.flatMap((r) => (r.body as { attributes: { braze_id: string }[] }).attributes.map((a) => a.braze_id));
      return seen.length >= ids.length ? seen : undefined;
    });
    expect([...delivered].sort()).toEqual([...ids].sort());
    for (const request of braze.requests) expect((request.body as { attributes: unknown[] }).attributes.length).toBeLessThanOrEqual(10);
    expect(braze.requests.length).toBeGreaterThanOrEqual(6);
  });

  it('retries a 429 after X-RateLimit-Reset and delivers once', async () => {
    let resetAt = 0;
    braze.respond = (_request, index) => {
      if (index === 0) {
        resetAt = Math.ceil(Date.now() / 1000) + 1;
        return { status: 429, body: { message: 'rate limited' }, headers: { 'x-ratelimit-reset': String(resetAt) } };
      }
      return { status: 201, body: { message: 'success' } };
    };

    await post(runner, '/seen/callback', callback('throttled-1'));

    await braze.waitForRequests(2);
    await eventually(async () => ((await queueDepth(runner, 'braze-track')) === 0 ? true : undefined), 5_000, 'queue drained');
    expect(braze.requests).toHaveLength(2);
    expect(braze.requests[1]?.body).toEqual(braze.requests[0]?.body);
    expect(braze.requests[1]!.at).toBeGreaterThanOrEqual(resetAt * 1000 - 50);
    expect(await queueDepth(runner, 'braze-track', 'dlq')).toBe(0);
  });

  it('parks what Braze refuses inside a success answer and delivers the rest once', async () => {
    braze.respond = (request) => {
      const attributes = (request.body as { attributes: { braze_id: string }[] }).attributes;
      const bad = attributes.findIndex((a) => a.braze_id === 'refused-1');
      return { status: 201, body: { message: 'success', errors: bad >= 0 ? [{ type: "'braze_id' is invalid", input_array: 'attributes', index: bad }] : [] } };
    };

    await Promise.all([post(runner, '/seen/callback', callback('refused-1')), post(runner, '/seen/callback', callback('fine-1'))]);

    const parked = await eventually(
      async () => {
        const messages = await peekDlq(runner, 'braze-track');
        return messages.length > 0 ? messages : undefined;
      },
      10_000,
      'a parked record',
    );
    expect(parked).toHaveLength(1);
    expect(parked[0]?.attributes.parked_reason).toBe("braze_object_error:'braze_id' is invalid");
    expect(JSON.parse(parked[0]!.body).items).toEqual([expect.objectContaining({ object: expect.objectContaining({ braze_id: 'refused-1' }) })]);
    await eventually(async () => ((await queueDepth(runner, 'braze-track')) === 0 ? true : undefined), 5_000, 'queue drained');
    const attempts = braze.requests.flatMap((r) => (r.body as { attributes: { braze_id: string }[] }).attributes.map((a) => a.braze_id));
    expect(attempts.filter((id) => id === 'fine-1')).toHaveLength(1);
    expect(attempts.filter((id) => id === 'refused-1')).toHaveLength(1);
  });
});

describe('SEEN API 2.0 callbacks (a Journey webhook node), through the local runner', () => {
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' } }));
  const webhookNode = (
    JSON.parse(readFileSync(path.join(__dirname, '../fixtures/seen/webhook-node-callback.json'), 'utf8')) as { body: Record<string, unknown> }
  ).body;
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      {
        INBOUND_TOKEN: 'seen-inbound-test-token',
        BRAZE_REST_ENDPOINT: await braze.start(),
        BRAZE_API_KEY: 'braze-test-key',
        SEEN_API_VERSION: '2',
        SEEN_ALLOWED_URL_HOSTS: '*.seen.io',
      },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.1 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => braze?.stop(),
    ),
  );
  beforeEach(() => {
    braze.requests.length = 0;
  });

  it('writes the id, player_url and email_thumbnail_url Braze asks the webhook node for', async () => {
    expect(await post(runner, '/seen/callback', webhookNode)).toEqual({ status: 202, body: { accepted: 1 } });

    await braze.waitForRequests(1);
    expect(braze.requests[0]?.body).toEqual({
      attributes: [{ braze_id: '101', _update_existing_only: true, player_url: webhookNode.player_url, email_thumbnail_url: webhookNode.email_thumbnail_url }],
    });
  });

  it('refuses a link to a host SEEN_ALLOWED_URL_HOSTS does not list, naming the field', async () => {
    const response = await post(runner, '/seen/callback', { ...webhookNode, player_url: 'https://player.evil.example/v/1' });

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([{ path: 'player_url', message: 'its host is not in SEEN_ALLOWED_URL_HOSTS' }]);
    expect(await queueDepth(runner, 'braze-track')).toBe(0);
  });
});

describe('a Braze outage, through the local runner', () => {
  const braze = new StubServer(() => ({ status: 500, body: { message: 'internal error' } }));
  let runner: Runner;

  beforeAll(async () => {
    const brazeUrl = await braze.start();
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'seen-inbound-test-token', BRAZE_REST_ENDPOINT: brazeUrl, BRAZE_API_KEY: 'braze-test-key' },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.1 }, queueOverrides: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => braze?.stop(),
    ),
  );

  it('moves a record to the DLQ when Braze keeps answering 500, losing none', async () => {
    await post(runner, '/seen/callback', callback('doomed-1'));

    const inDlq = await eventually(
      async () => {
        const messages = await peekDlq(runner, 'braze-track');
        return messages.find((m) => m.body.includes('doomed-1'));
      },
      15_000,
      'the record in the DLQ',
    );
    expect(JSON.parse(inDlq.body).items[0].object.braze_id).toBe('doomed-1');
    // 2 receives (maxReceiveCount) x 3 attempts each (1 + 2 retries), and nothing after that.
    const attempts = braze.requests.filter((r) => JSON.stringify(r.body).includes('doomed-1'));
    expect(attempts).toHaveLength(6);
    expect(await queueDepth(runner, 'braze-track')).toBe(0);
  });
});
