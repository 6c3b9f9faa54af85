/**
 * The fault matrix of issue 18 (SPEC section 4, docs/architecture.md "Faults"), through the local runner on
 * loopback: real HTTP to stub destinations, the embedded SQS, the real handlers. Waits between
 * tries are shortened with DELIVERY_BACKOFF_MAX_SECONDS (the first wait is at most that long).
 */

import { eventually, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const callback = (customerId: string) => ({
  customer_id: customerId,
  campaign_slug: 'summer',
  landing_page_url: `https://seen.example/v/${customerId}`,
  video_url: `https://seen.example/v/${customerId}.mp4`,
  thumbnail_url: `https://seen.example/v/${customerId}.jpg`,
  email_thumbnail_url: `https://seen.example/v/${customerId}-email.jpg`,
});

/** The braze_ids of every attribute Braze accepted (answered 2xx). */
const deliveredIds = (braze: StubServer, accepted: Set<number>) =>
  braze.requests.flatMap((request, index) =>
    accepted.has(index) ? ((request.body as { attributes?: { braze_id: string }[] }).attributes ?? []).map((a) => a.braze_id) : [],
  );

describe('fault matrix: what the bridge does when its destination misbehaves', () => {
  const braze = new StubServer();
  const elsewhere = new StubServer();
  let runner: Runner;
  let elsewhereUrl: string;
  /** Indexes of the requests Braze answered with a 2xx. */
  const accepted = new Set<number>();

  beforeAll(async () => {
    const brazeUrl = await braze.start();
    elsewhereUrl = await elsewhere.start();
    runner = await startTestRunner(
      {
        INBOUND_TOKEN: 'fault-matrix-token',
        BRAZE_REST_ENDPOINT: brazeUrl,
        BRAZE_API_KEY: 'braze-test-key',
        BRAZE_MAX_OBJECTS_PER_REQUEST: '10',
        DELIVERY_BACKOFF_MAX_SECONDS: '1',
      },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.3 }, queueOverrides: { visibilityTimeoutSeconds: 30, maxReceiveCount: 150 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => braze.stop(),
      () => elsewhere.stop(),
    ),
  );
  beforeEach(async () => {
    await eventually(async () => ((await queueDepth(runner, 'braze-track')) === 0 ? true : undefined), 20_000, 'queue empty before the test');
    braze.requests.length = 0;
    elsewhere.requests.length = 0;
    accepted.clear();
  });

  const answer = (decide: (request: { body: unknown }, index: number) => number, extra: Record<string, string> = {}) => {
    braze.respond = (request, index) => {
      const status = decide(request, index);
      if (status < 300) accepted.add(index);
      return { status, body: status < 300 ? { message: 'success' } : { message: 'no' }, headers: extra };
    };
  };

  it('Braze answers 401 for a while (a rotated key) then 201: every callback is delivered, none parked', async () => {
    let broken = true;
    answer(() => (broken ? 401 : 201));
    const ids = Array.from({ length: 20 }, (_, i) => `key-${i}`);

    for (const id of ids) expect((await post(runner, '/seen/callback', callback(id))).status).toBe(202);
    await braze.waitForRequests(4);
    broken = false;

    await eventually(() => (new Set(deliveredIds(braze, accepted)).size === ids.length ? true : undefined), 30_000, 'all 20 delivered');
    expect(new Set(deliveredIds(braze, accepted))).toEqual(new Set(ids));
    expect(await queueDepth(runner, 'braze-track', 'dlq')).toBe(0);
    expect(runner.metricCounts('braze-track-delivery').DestinationConfigFaults).toBeGreaterThanOrEqual(1);
    expect(runner.metricCounts('braze-track-delivery').RecordsParked ?? 0).toBe(0);
  });

  it('Braze answers 302 to another host: the redirect is not followed, no key leaves, and delivery resumes once fixed', async () => {
    let redirecting = true;
    braze.respond = (_request, index) => {
      if (redirecting) return { status: 302, headers: { location: `${elsewhereUrl}/users/track` } };
      accepted.add(index);
      return { status: 201, body: { message: 'success' } };
    };

    expect((await post(runner, '/seen/callback', callback('redirected-1'))).status).toBe(202);
    await braze.waitForRequests(2);
    redirecting = false;

    await eventually(() => (deliveredIds(braze, accepted).includes('redirected-1') ? true : undefined), 20_000, 'delivered after the fix');
    expect(elsewhere.requests).toHaveLength(0);
    expect(await queueDepth(runner, 'braze-track', 'dlq')).toBe(0);
  });

  it('Braze refuses a combined call (400) for one bad record: only that record is parked, the others delivered', async () => {
    answer((request) => (JSON.stringify(request.body).includes('"braze_id":"bad-1"') ? 400 : 201));
    const ids = ['ok-1', 'ok-2', 'bad-1', 'ok-3', 'ok-4'];

    await Promise.all(ids.map((id) => post(runner, '/seen/callback', callback(id))));

    await eventually(async () => ((await queueDepth(runner, 'braze-track', 'dlq')) === 1 ? true : undefined), 20_000, 'the bad record parked');
    await eventually(() => (new Set(deliveredIds(braze, accepted)).size === 4 ? true : undefined), 20_000, 'the four others delivered');
    expect(new Set(deliveredIds(braze, accepted))).toEqual(new Set(['ok-1', 'ok-2', 'ok-3', 'ok-4']));
    const [parked] = await peekDlq(runner, 'braze-track');
    expect(parked?.attributes.parked_reason).toBe('braze_400');
    expect(parked?.body).toContain('bad-1');
  });

  it('Braze answers 413 to calls of more than two objects: the calls are split until they fit, nothing parked', async () => {
    answer((request) => (((request.body as { attributes?: unknown[] }).attributes?.length ?? 0) > 2 ? 413 : 201));
    const ids = Array.from({ length: 7 }, (_, i) => `big-${i}`);
    const parkedBefore = await queueDepth(runner, 'braze-track', 'dlq');

    await Promise.all(ids.map((id) => post(runner, '/seen/callback', callback(id))));

    await eventually(() => (new Set(deliveredIds(braze, accepted)).size === ids.length ? true : undefined), 20_000, 'all seven delivered');
    expect(await queueDepth(runner, 'braze-track', 'dlq')).toBe(parkedBefore);
    expect(braze.requests.some((request) => ((request.body as { attributes: unknown[] }).attributes.length ?? 0) > 2)).toBe(true);
    for (const index of accepted) expect((braze.requests[index]!.body as { attributes: unknown[] }).attributes.length).toBeLessThanOrEqual(2);
  });
});
