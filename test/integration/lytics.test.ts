import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { eventually, StubServer } from '../../bench/support/stub-server';
import { BULK_CALLS_PER_MESSAGE } from '../../functions/braze/catalogue';
import { decodeMessageBody, encodeMessageBody } from '../../functions/core/message-body';
import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/lytics', name), 'utf8')) as Record<string, unknown>;
type Attribute = { external_id: string; lytics_segments: { add?: string[]; remove?: string[] } };
const attributesOf = (body: unknown) => (body as { attributes: Attribute[] }).attributes;

describe('Lytics flows, through the local runner', () => {
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' } }));
  const lytics = new StubServer(() => ({ status: 200, body: { status: 200, message: 'success' } }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      {
        INBOUND_TOKEN: 'lytics-inbound',
        BRAZE_REST_ENDPOINT: await braze.start(),
        BRAZE_API_KEY: 'braze-key',
        LYTICS_API_URL: await lytics.start(),
        LYTICS_API_TOKEN: 'lytics-secret-token',
      },
      { consumerOverrides: { maxBatchingWindowSeconds: 1 }, queueOverrides: { visibilityTimeoutSeconds: 5 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => braze?.stop(),
      () => lytics?.stop(),
    ),
  );
  beforeEach(() => {
    braze.requests.length = 0;
    lytics.requests.length = 0;
  });

  it('delivers the seed audience export to Braze as lytics_segments, creating unknown users', async () => {
    const response = await post(runner, '/lytics/audiences', fixture('audience.json'));

    expect(response).toEqual({ status: 202, body: { accepted: 2 } });
    await braze.waitForRequests(1);
    expect(braze.requests[0]?.body).toEqual({
      attributes: [
        { external_id: 'ABC124ID', lytics_segments: { add: ['lytics_all', 'lytics_new'] } },
        { external_id: 'XYZ234ID', lytics_segments: { add: ['lytics_known'], remove: ['lytics_new'] } },
      ],
    });
  });

  it('accepts the valid records of a partly invalid export and names the refused ones by index', async () => {
    const response = await post(runner, '/lytics/audiences', {
      lytics_to_braze_audience: [
        { external_id: 'good-1', lytics_segments: { add: ['a'] } },
        { external_id: '', lytics_segments: { add: ['a'] } },
        { external_id: 'good-2', lytics_segments: { remove: ['a'] } },
      ],
    });

    expect(response.status).toBe(202);
    expect(response.body.accepted).toBe(2);
    expect(response.body.rejected).toEqual([{ index: 1, issues: [expect.objectContaining({ path: 'lytics_to_braze_audience[1].external_id' })] }]);
    await braze.waitForRequests(1);
    expect(attributesOf(braze.requests[0]?.body).map((a) => a.external_id)).toEqual(['good-1', 'good-2']);
  });

  it('answers 400 and enqueues nothing when no record is valid', async () => {
    const response = await post(runner, '/lytics/audiences', { lytics_to_braze_audience: [{ external_id: 'x' }] });

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: 'lytics_to_braze_audience[0].lytics_segments' })]);
    expect(await queueDepth(runner, 'braze-track-bulk')).toBe(0);
  });

  it('posts a Braze webhook profile to the Lytics collect API with the token in a header, not the URL', async () => {
    const response = await post(runner, '/lytics/users', fixture('profile.json'));

    expect(response).toEqual({ status: 202, body: { accepted: 1 } });
    await lytics.waitForRequests(1);
    const [request] = lytics.requests;
    expect(request?.path).toBe('/collect/json/braze_users');
    expect(request?.path).not.toContain('lytics-secret-token');
    expect(request?.headers.authorization).toBe('lytics-secret-token');
    expect(request?.body).toEqual([fixture('profile.json')]);
  });

  it('combines profiles from many webhooks into one collect call', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) => post(runner, '/lytics/users', { braze_id: `b-${i}`, email: `u${i}@example.com` })));

    await eventually(() => (lytics.requests.flatMap((r) => r.body as unknown[]).length >= 30 ? true : undefined), 15_000, '30 profiles');
    expect(lytics.requests.length).toBeLessThanOrEqual(3);
  });

  it('refuses a profile without braze_id, naming it', async () => {
    const { braze_id: _dropped, ...withoutId } = fixture('profile.json');

    const response = await post(runner, '/lytics/users', withoutId);

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: 'braze_id' })]);
  });
});

describe('a Lytics backfill already queued when delivery starts, through the local runner', () => {
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' } }));
  let runner: Runner;

  beforeAll(async () => {
    // Consumers start only once the whole backfill is queued, so how full each call is depends on
    // the packing alone, not on how fast this machine enqueues compared with how fast it delivers.
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'lytics-inbound', BRAZE_REST_ENDPOINT: await braze.start(), BRAZE_API_KEY: 'braze-key' },
      { startConsumers: false, consumerOverrides: { maxBatchingWindowSeconds: 2 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => braze?.stop(),
    ),
  );

  it('delivers a 10,000-record backfill in full calls: within 5% of ceil(N / 75), each user once', async () => {
    const users = 10_000;
    const requests = Array.from({ length: 20 }, (_, r) => ({
      lytics_to_braze_audience: Array.from({ length: 500 }, (_, i) => ({ external_id: `bf-${r * 500 + i}`, lytics_segments: { add: ['lytics_all'] } })),
    }));

    const responses = await Promise.all(requests.map((body) => post(runner, '/lytics/audiences', body)));
    expect(responses.every((r) => r.status === 202 && r.body.accepted === 500)).toBe(true);
    // All of it waits, however fast this machine is: each body in messages of BULK_CALLS_PER_MESSAGE calls' worth.
    expect(await queueDepth(runner, 'braze-track-bulk')).toBe(requests.length * Math.ceil(500 / (75 * BULK_CALLS_PER_MESSAGE)));
    // Each travels gzipped through the embedded queue (functions/core/message-body.ts), about a twentieth of its JSON.
    const { Messages: [queued] = [] } = await runner.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: runner.queues.get('braze-track-bulk')!.url, MaxNumberOfMessages: 1, VisibilityTimeout: 0 }),
    );
    const json = decodeMessageBody(queued?.Body ?? '').json;
    expect(queued?.Body?.startsWith('H4sI')).toBe(true);
    expect(queued?.Body?.length).toBeLessThan(json.length / 10);
    expect((JSON.parse(json) as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(75);

    runner.startConsumers();

    const delivered = await eventually(
      () => {
        const ids = braze.requests.flatMap((r) => attributesOf(r.body).map((a) => a.external_id));
        return ids.length >= users ? ids : undefined;
      },
      30_000,
      'all users delivered',
    );
    expect(new Set(delivered).size).toBe(users);
    expect(delivered).toHaveLength(users);
    const perCall = braze.requests.map((r) => attributesOf(r.body).length);
    expect(Math.max(...perCall)).toBeLessThanOrEqual(75);
    const average = users / perCall.length;
    expect(average).toBeGreaterThanOrEqual(0.95 * 75);
    expect(perCall.length).toBeGreaterThanOrEqual(Math.ceil(users / 75));
  });

  it('shows a gzipped message parked in the DLQ as its JSON when the operator asks for bodies', async () => {
    const json = JSON.stringify({
      v: 1,
      flow: 'lytics-audiences',
      requestId: 'parked-1',
      items: Array.from({ length: 300 }, (_, i) => ({ kind: 'attributes', object: { external_id: `parked-${i}` } })),
    });
    const dlqUrl = runner.queues.get('braze-track-bulk')!.dlqUrl;
    await runner.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: encodeMessageBody(json) }));

    const peek = (await (await fetch(`${runner.url}/_dlq/braze-track-bulk?bodies=1`)).json()) as { messages: { body: string }[] };

    expect(peek.messages.map((m) => m.body)).toContain(json);
  });
});

describe('a Lytics outage, through the local runner', () => {
  const lytics = new StubServer(() => ({ status: 503, body: {} }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'lytics-inbound', LYTICS_API_URL: await lytics.start(), LYTICS_API_TOKEN: 'lytics-secret-token' },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.1 }, queueOverrides: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => lytics?.stop(),
    ),
  );

  it('retries, then parks the profile in the DLQ, losing nothing', async () => {
    await post(runner, '/lytics/users', { braze_id: 'kept-1', email: 'k@example.com' });

    const parked = await eventually(async () => (await peekDlq(runner, 'lytics-users')).find((m) => m.body.includes('kept-1')), 15_000, 'DLQ');
    expect(JSON.parse(parked.body).events).toEqual([{ braze_id: 'kept-1', email: 'k@example.com' }]);
    expect(lytics.requests).toHaveLength(2 * 3); // 2 receives x (1 + 2 retries)
    expect(await queueDepth(runner, 'lytics-users')).toBe(0);
  });
});
