import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, type StubRequest, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const seedCallback = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/seen/callback.json'), 'utf8')) as Record<string, unknown>;
type Attribute = { external_id?: string; braze_id?: string };
const attributesOf = (request: StubRequest) => (request.body as { attributes?: Attribute[] }).attributes ?? [];

describe('lanes: a realtime record never waits behind a backfill, through the local runner', () => {
  // Braze taking 300 ms per call: a 40,000-record backfill is then hundreds of calls, seconds of work.
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' }, delayMs: 300 }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner({ INBOUND_TOKEN: 'lanes-token', BRAZE_REST_ENDPOINT: await braze.start(), BRAZE_API_KEY: 'braze-key' });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => braze?.stop(),
    ),
  );

  it('delivers a SEEN callback while the 40,000-record Lytics backfill queued before it is still being worked through', async () => {
    const backfill = Array.from({ length: 80 }, (_, r) => ({
      lytics_to_braze_audience: Array.from({ length: 500 }, (_, i) => ({ external_id: `bf-${r * 500 + i}`, lytics_segments: { add: ['lytics_all'] } })),
    }));
    for (let i = 0; i < backfill.length; i += 8) {
      const answers = await Promise.all(backfill.slice(i, i + 8).map((body) => post(runner, '/lytics/audiences', body)));
      expect(answers.every((answer) => answer.status === 202)).toBe(true);
    }
    expect(await queueDepth(runner, 'braze-track-bulk')).toBeGreaterThan(0);

    const response = await post(runner, '/seen/callback', { ...seedCallback, customer_id: 'realtime-1' });
    expect(response.status).toBe(202);

    const arrived = await eventually(
      () => braze.requests.find((request) => attributesOf(request).some((a) => a.braze_id === 'realtime-1')),
      10_000,
      'the callback at Braze',
    );
    const backfillDeliveredBefore = braze.requests
      .filter((request) => request.at <= arrived.at)
      .reduce((n, request) => n + attributesOf(request).filter((a) => a.external_id?.startsWith('bf-')).length, 0);

    // No wall-clock figure here (the lane's latency is a benchmark figure, `npm run bench`): the
    // backfill was still being worked through: the callback went past it, not after it.
    expect(backfillDeliveredBefore).toBeLessThan(40_000);
    expect(await queueDepth(runner, 'braze-track-bulk')).toBeGreaterThan(0);
  });
});
