import { eventually, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { readmeLyticsTemplate } from '../support/lytics-template';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';
import { readFixture } from '../unit/helpers';

type Attribute = Record<string, unknown> & { lytics_segments: { add?: string[]; remove?: string[] } };
const attributesOf = (body: unknown) => (body as { attributes?: Attribute[] }).attributes ?? [];
/** The profile a js1 template is given, from a Lytics audience trigger event (its page's sample). */
const profileOf = (name: string) => (readFixture(`lytics/${name}`) as { event: { data: Record<string, unknown> } }).event.data;

describe("Lytics' webhook export job posting to /lytics/audiences, through the local runner", () => {
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' } }));
  let runner: Runner;
  const delivered = () => braze.requests.flatMap((r) => attributesOf(r.body));

  beforeAll(async () => {
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'lytics-inbound', BRAZE_REST_ENDPOINT: await braze.start(), BRAZE_API_KEY: 'braze-key' },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.3 } },
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

  it("takes the array a batching job posts of the docs/partners.md template's records, the token in the URL", async () => {
    const template = readmeLyticsTemplate();
    const batch = [template(profileOf('webhook-enter.json')), template(profileOf('webhook-exit.json'))];

    const response = await fetch(`${runner.url}/lytics/audiences?token=lytics-inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch),
    });

    expect({ status: response.status, body: await response.json() }).toEqual({ status: 202, body: { accepted: 2 } });
    await eventually(() => (delivered().length >= 2 ? true : undefined), 10_000, 'two users');
    expect(delivered()).toEqual(
      expect.arrayContaining([
        { external_id: 'ABC124ID', lytics_segments: { add: ['first_name_joe'] } },
        { email: 'joseph.flow@example.com', lytics_segments: { remove: ['first_name_joe'] } },
      ]),
    );
  });

  it('carries records named by each identifier Lytics exports with to Braze as that identifier', async () => {
    const records = [
      { external_id: 'ext-1', lytics_segments: { add: ['vip'] } },
      { braze_id: '65f0c0ffee0000000000abcd', lytics_segments: { add: ['vip'] } },
      { email: 'ada@example.com', lytics_segments: { remove: ['vip'] } },
      { phone: '+15551231234', lytics_segments: { add: ['vip'] } },
      { user_alias: { alias_name: 'lytics-42', alias_label: 'lytics_id' }, lytics_segments: { add: ['vip'] } },
    ];

    const response = await post(runner, '/lytics/audiences', records);

    expect(response).toEqual({ status: 202, body: { accepted: 5 } });
    await eventually(() => (delivered().length >= 5 ? true : undefined), 10_000, 'five users');
    expect(delivered()).toEqual(expect.arrayContaining(records));
    expect(delivered()).toHaveLength(5);
  });

  it('takes one record alone, and an array of envelopes, refusing by index the record that names no user', async () => {
    const one = await post(runner, '/lytics/audiences', { external_id: 'solo', lytics_segments: { add: ['a'] } });
    const envelopes = await post(runner, '/lytics/audiences', [
      { lytics_to_braze_audience: [{ external_id: 'env-1', lytics_segments: { add: ['a'] } }] },
      { lytics_to_braze_audience: [{ lytics_segments: { add: ['a'] } }, { external_id: 'env-2', lytics_segments: { remove: ['a'] } }] },
    ]);

    expect(one).toEqual({ status: 202, body: { accepted: 1 } });
    expect(envelopes.status).toBe(202);
    expect(envelopes.body).toMatchObject({
      accepted: 2,
      rejected: [{ index: 1, issues: [expect.objectContaining({ path: '[1].lytics_to_braze_audience[0].external_id' })] }],
    });
    await eventually(() => (delivered().length >= 3 ? true : undefined), 10_000, 'three users');
    expect(
      delivered()
        .map((a) => a.external_id)
        .sort(),
    ).toEqual(['env-1', 'env-2', 'solo']);
  });

  it('refuses with 413 an array of envelopes holding more records than the route takes, queuing nothing', async () => {
    const envelope = { lytics_to_braze_audience: Array.from({ length: 5_001 }, (_, i) => ({ external_id: `big-${i}`, lytics_segments: { add: ['a'] } })) };

    const response = await post(runner, '/lytics/audiences', [envelope, envelope]);

    expect(response.status).toBe(413);
    expect(response.body.error).toMatch(/10002 records.*at most 10000/);
    expect(await queueDepth(runner, 'braze-track-bulk')).toBe(0);
  });
});

describe('Lytics collect answers with rejected rows, through the local runner', () => {
  // Lytics API reference, Data Upload: a success answer counts what it took and rejected.
  const lytics = new StubServer((request) => {
    const rows = request.body as { braze_id: string }[];
    const rejected = rows.filter((row) => row.braze_id.startsWith('bad')).length;
    return { status: 200, body: { status: 200, message: 'success', data: { message_count: rows.length, rejected_count: rejected } } };
  });
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'lytics-inbound', LYTICS_API_URL: await lytics.start(), LYTICS_API_TOKEN: 'lytics-secret-token' },
      { startConsumers: false, consumerOverrides: { maxBatchingWindowSeconds: 0.5 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => lytics.stop(),
    ),
  );

  it('parks the profile Lytics rejected, found by bisecting the combined call, and counts the others delivered', async () => {
    for (const id of ['good-1', 'bad-1', 'good-2', 'good-3']) expect((await post(runner, '/lytics/users', { braze_id: id })).status).toBe(202);

    runner.startConsumers();
    const parked = await eventually(async () => (await peekDlq(runner, 'lytics-users'))[0], 15_000, 'the rejected row parked');
    await eventually(async () => ((await queueDepth(runner, 'lytics-users')) === 0 ? true : undefined), 10_000, 'queue drained');

    expect(parked.attributes.parked_reason).toBe('lytics_rejected');
    expect(JSON.parse(parked.body).events).toEqual([{ braze_id: 'bad-1' }]);
    expect(await peekDlq(runner, 'lytics-users')).toHaveLength(1);
    const accepted = lytics.requests.flatMap((r) => r.body as { braze_id: string }[]).filter((row) => row.braze_id.startsWith('good'));
    expect(new Set(accepted.map((row) => row.braze_id))).toEqual(new Set(['good-1', 'good-2', 'good-3']));
  });
});
