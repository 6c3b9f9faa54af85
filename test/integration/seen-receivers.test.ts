import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, type StubRequest, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

type Receiver = { customer_id: string; first_name?: string; email?: string };
const seedReceivers = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/seen/receivers.json'), 'utf8')) as Receiver[];

const receiversOf = (requests: StubRequest[]) => requests.flatMap((r) => (r.body as Receiver[]).map((x) => x.customer_id));
const campaignOf = (request: StubRequest) => /\/v1\/campaigns\/([^/]+)\/receivers\/$/.exec(request.path)?.[1];

/** The most calls that fell inside any window of `windowMs` (windows opening at each call). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

async function startWith(seenUrl: string, env: Record<string, string>) {
  return startTestRunner({ INBOUND_TOKEN: 'seen-inbound', SEEN_API_URL: seenUrl, SEEN_API_TOKEN: 'seen-api-token', ...env });
}

describe('Braze webhook receivers to SEEN, through the local runner (drain run by hand)', () => {
  const seen = new StubServer(() => ({ status: 201, body: {} }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner({ INBOUND_TOKEN: 'seen-inbound', SEEN_API_URL: await seen.start(), SEEN_API_TOKEN: 'seen-api-token' }, { schedules: false });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => seen?.stop(),
    ),
  );
  beforeEach(() => {
    seen.requests.length = 0;
  });

  it('posts the seed receivers to /v1/campaigns/{slug}/receivers/ with the SEEN token', async () => {
    const response = await post(runner, '/seen/campaigns/onboarding/receivers', seedReceivers);

    expect(response).toEqual({ status: 202, body: { accepted: seedReceivers.length } });
    await runner.drainNow('seen-receivers');
    expect(seen.requests).toHaveLength(1);
    expect(seen.requests[0]?.method).toBe('POST');
    expect(seen.requests[0]?.path).toBe('/v1/campaigns/onboarding/receivers/');
    expect(seen.requests[0]?.headers.authorization).toBe('Token seen-api-token');
    expect(seen.requests[0]?.body).toEqual(seedReceivers);
  });

  it('combines receivers of one campaign from several webhooks into one call', async () => {
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        post(runner, '/seen/campaigns/winback/receivers', [{ customer_id: `w-${i}`, first_name: `W${i}`, email: `w${i}@example.com` }]),
      ),
    );

    await runner.drainNow('seen-receivers');

    expect(seen.requests).toHaveLength(1);
    expect(seen.requests[0]?.path).toBe('/v1/campaigns/winback/receivers/');
    expect(receiversOf(seen.requests).sort()).toEqual(['w-0', 'w-1', 'w-2', 'w-3', 'w-4']);
  });

  it('refuses a campaign slug that is not one, naming it, and enqueues nothing', async () => {
    const response = await post(runner, '/seen/campaigns/..%2F..%2Fadmin/receivers', seedReceivers);

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: 'campaign_slug' })]);
    expect(await queueDepth(runner, 'seen-receivers')).toBe(0);
  });

  it('refuses a receiver without first_name (SEEN requires it) by its index, and sends only the good one', async () => {
    const response = await post(runner, '/seen/campaigns/onboarding/receivers', [
      { customer_id: 'named', first_name: 'Ada' },
      { customer_id: 'nameless', email: 'n@example.com' },
    ]);

    expect(response).toEqual({
      status: 202,
      body: { accepted: 1, rejected: [{ index: 1, issues: [expect.objectContaining({ path: '[1].first_name' })] }] },
    });
    await runner.drainNow('seen-receivers');
    expect(receiversOf(seen.requests)).toEqual(['named']);
  });

  it('refuses a request in which no receiver is valid with 400, naming each field, and enqueues nothing', async () => {
    const response = await post(runner, '/seen/campaigns/onboarding/receivers', [{ customer_id: 'ok' }, { first_name: 'Grace' }]);

    expect(response.status).toBe(400);
    expect((response.body.issues as { path: string }[]).map((issue) => issue.path)).toEqual(['[0].first_name', '[1].customer_id']);
    expect(await queueDepth(runner, 'seen-receivers')).toBe(0);
  });

  it('takes one receiver as an object, as a Braze webhook body may be', async () => {
    const response = await post(runner, '/seen/campaigns/onboarding/receivers', { customer_id: 'single', first_name: 'Ada' });

    expect(response).toEqual({ status: 202, body: { accepted: 1 } });
    await runner.drainNow('seen-receivers');
    expect(seen.requests.map((request) => request.body)).toEqual([[{ customer_id: 'single', first_name: 'Ada' }]]);
  });
});

describe('a receiver SEEN refuses in a combined call, through the local runner', () => {
  // SEEN's legacy API refuses the whole array (400) when one receiver is bad: it stands in for that.
  const seen = new StubServer((request) => ({ status: (request.body as Receiver[]).some((r) => r.customer_id === 'refused') ? 400 : 201, body: {} }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner({ INBOUND_TOKEN: 'seen-inbound', SEEN_API_URL: await seen.start(), SEEN_API_TOKEN: 'seen-api-token' }, { schedules: false });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => seen?.stop(),
    ),
  );

  it('parks only that receiver: the others of its call are delivered once', async () => {
    const ids = ['r-1', 'r-2', 'refused', 'r-3', 'r-4'];
    await Promise.all(ids.map((id) => post(runner, '/seen/campaigns/onboarding/receivers', [{ customer_id: id, first_name: 'Ada' }])));

    await runner.drainNow('seen-receivers');

    const delivered = seen.requests.filter((r) => !(r.body as Receiver[]).some((x) => x.customer_id === 'refused'));
    expect(receiversOf(delivered).sort()).toEqual(['r-1', 'r-2', 'r-3', 'r-4']);
    const parked = await peekDlq(runner, 'seen-receivers');
    expect(parked.map((m) => (JSON.parse(m.body) as { receivers: Receiver[] }).receivers.map((r) => r.customer_id))).toEqual([['refused']]);
    expect(parked[0]?.attributes.parked_reason).toBe('seen_400');
    expect(await queueDepth(runner, 'seen-receivers')).toBe(0);
  });
});

describe('the SEEN call budget, through the local runner (drain on its timer)', () => {
  const seen = new StubServer(() => ({ status: 201, body: {} }));
  let runner: Runner;

  beforeAll(async () => {
    // A drain every 0.2 s with a 24-call budget per 2 s window: 24 / (10 + 2) = 2 calls per run.
    runner = await startWith(await seen.start(), { SEEN_DRAIN_INTERVAL_SECONDS: '0.2', SEEN_BUDGET_WINDOW_SECONDS: '2', SEEN_MAX_CALLS_PER_HOUR: '24' });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => seen?.stop(),
    ),
  );

  it('keeps to the call budget in every window under a burst of 40 campaigns (2 calls per 0.2 s run, 24 per 2 s), dropping no receiver', async () => {
    const campaigns = Array.from({ length: 40 }, (_, i) => `burst-${i}`);

    await Promise.all(
      campaigns.map((c) =>
        post(runner, `/seen/campaigns/${c}/receivers`, [
          { customer_id: `${c}-a`, first_name: 'A' },
          { customer_id: `${c}-b`, first_name: 'B' },
        ]),
      ),
    );

    await eventually(() => (receiversOf(seen.requests).length >= 80 ? true : undefined), 30_000, 'all 80 receivers');
    const calls = seen.requests;
    // One queue message per receiver: a campaign's two may travel together or in two runs' calls, each call one campaign.
    expect(calls.length).toBeLessThanOrEqual(80);
    for (const call of calls) expect(new Set((call.body as Receiver[]).map((r) => r.customer_id.replace(/-[ab]$/, '')))).toEqual(new Set([campaignOf(call)]));
    expect(new Set(calls.map(campaignOf)).size).toBe(40);
    expect(receiversOf(calls).sort()).toEqual(campaigns.flatMap((c) => [`${c}-a`, `${c}-b`]).sort());
    expect(
      busiestWindow(
        calls.map((c) => c.at),
        2_000,
      ),
    ).toBeLessThanOrEqual(24);
    // 40 calls or more at two per 0.2 s run take at least 19 intervals: the burst was held back, not sent at once.
    expect(calls.at(-1)!.at - calls[0]!.at).toBeGreaterThanOrEqual(3_500);
  });
});

describe('a SEEN budget under one call per drain run, through the local runner (drain on its timer)', () => {
  const seen = new StubServer(() => ({ status: 201, body: {} }));
  let runner: Runner;

  beforeAll(async () => {
    // 3 calls per 2 s window, a run every 0.2 s: callsPerRun = 0, so the runs share the 3 through the ledger.
    runner = await startWith(await seen.start(), { SEEN_DRAIN_INTERVAL_SECONDS: '0.2', SEEN_BUDGET_WINDOW_SECONDS: '2', SEEN_MAX_CALLS_PER_HOUR: '3' });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => seen?.stop(),
    ),
  );

  it('sends 3 campaigns in the first runs, the other 2 once the window allows, never 4 in a window', async () => {
    const campaigns = ['c1', 'c2', 'c3', 'c4', 'c5'];

    await Promise.all(campaigns.map((c) => post(runner, `/seen/campaigns/${c}/receivers`, [{ customer_id: `${c}-x`, first_name: 'Ada' }])));

    await eventually(() => (seen.requests.length >= 5 ? true : undefined), 20_000, 'all 5 campaigns');
    expect(new Set(seen.requests.map(campaignOf))).toEqual(new Set(campaigns));
    expect(
      busiestWindow(
        seen.requests.map((c) => c.at),
        2_000,
      ),
    ).toBeLessThanOrEqual(3);
  });
});

describe('a SEEN outage, through the local runner', () => {
  const seen = new StubServer(() => ({ status: 503, body: {} }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      {
        INBOUND_TOKEN: 'seen-inbound',
        SEEN_API_URL: await seen.start(),
        SEEN_API_TOKEN: 'seen-api-token',
        SEEN_DRAIN_INTERVAL_SECONDS: '0.2',
        SEEN_BUDGET_WINDOW_SECONDS: '2',
        SEEN_MAX_CALLS_PER_HOUR: '60',
      },
      { queueOverrides: { maxReceiveCount: 2 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => seen?.stop(),
    ),
  );

  it('moves the receivers to the DLQ after maxReceiveCount failed calls, one attempt per call', async () => {
    await post(runner, '/seen/campaigns/onboarding/receivers', [{ customer_id: 'lost-not', first_name: 'Ada' }]);

    const parked = await eventually(async () => (await peekDlq(runner, 'seen-receivers')).find((m) => m.body.includes('lost-not')), 20_000, 'DLQ');
    expect(JSON.parse(parked.body).receivers).toEqual([{ customer_id: 'lost-not', first_name: 'Ada' }]);
    expect(seen.requests).toHaveLength(2);
  });
});
