import { eventually, type StubRequest, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

type Recipient = {
  external_user_id?: string;
  email?: string;
  trigger_properties?: Record<string, unknown>;
  canvas_entry_properties?: Record<string, unknown>;
  attributes: Record<string, unknown>;
};
const recipientsOf = (requests: StubRequest[]) => requests.flatMap((r) => (r.body as { recipients?: Recipient[] }).recipients ?? []);

describe('odp-activation: ODP activations into Braze, through the local runner', () => {
  const braze = new StubServer(() => ({ status: 201, body: { dispatch_id: 'd-1', message: 'success' } }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      {
        INBOUND_TOKEN: 'odp-inbound',
        BRAZE_REST_ENDPOINT: await braze.start(),
        BRAZE_API_KEY: 'braze-key',
        ODP_ALLOWED_CAMPAIGNS: 'camp-42, camp-9, camp-429, camp-tokens',
        ODP_ALLOWED_CANVASES: 'canvas-7,canvas-paused',
      },
      { consumerOverrides: { maxBatchingWindowSeconds: 1 }, queueOverrides: { visibilityTimeoutSeconds: 2 } },
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
    braze.respond = () => ({ status: 201, body: { dispatch_id: 'd-1', message: 'success' } });
  });

  it('triggers a campaign for 120 recipients in 3 calls of at most 50, fields as trigger properties and attributes', async () => {
    const records = Array.from({ length: 120 }, (_, i) => ({ external_id: `user-${i}`, fields: { score: i, tier: 'gold' } }));

    const response = await post(runner, '/optimizely/activation', { target: 'campaign', campaign_id: 'camp-42', records });

    expect(response).toEqual({ status: 202, body: { accepted: 120 } });
    await eventually(() => (recipientsOf(braze.requests).length >= 120 ? true : undefined), 15_000, '120 recipients');
    const calls = braze.requests.filter((r) => r.path === '/campaigns/trigger/send');
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => (c.body as { campaign_id: string; recipients: unknown[] }).campaign_id === 'camp-42')).toBe(true);
    expect(calls.every((c) => (c.body as { recipients: unknown[] }).recipients.length <= 50)).toBe(true);
    expect(new Set(recipientsOf(calls).map((r) => r.external_user_id)).size).toBe(120);
    expect(recipientsOf(calls)[0]).toEqual({
      external_user_id: expect.any(String),
      trigger_properties: { score: expect.any(Number), tier: 'gold' },
      attributes: { score: expect.any(Number), tier: 'gold' },
    });
    expect(calls[0]?.headers.authorization).toBe('Bearer braze-key');
  });

  it(
    "triggers a Canvas with the fields as canvas_entry_properties, email-only recipients under Braze's email " +
      'identifier with the prioritization Braze requires',
    async () => {
      await post(runner, '/optimizely/activation', {
        target: 'canvas',
        canvas_id: 'canvas-7',
        records: [{ email: 'Ada@Example.com', fields: { offer: 'A' } }],
      });

      await braze.waitForRequests(1);
      expect(braze.requests[0]?.path).toBe('/canvas/trigger/send');
      expect(braze.requests[0]?.body).toEqual({
        canvas_id: 'canvas-7',
        recipients: [
          {
            email: 'ada@example.com',
            prioritization: ['identified', 'most_recently_updated'],
            canvas_entry_properties: { offer: 'A' },
            attributes: { offer: 'A' },
          },
        ],
      });
    },
  );

  it('refuses a campaign or Canvas the deployment does not allow (400 naming campaign_id / canvas_id) and triggers nothing', async () => {
    const campaign = await post(runner, '/optimizely/activation', {
      target: 'campaign',
      campaign_id: 'camp-other',
      records: [{ external_id: 'u1', fields: { subject: 'pay here' } }],
    });
    const canvas = await post(runner, '/optimizely/activation', { target: 'canvas', canvas_id: 'canvas-other', records: [{ external_id: 'u1' }] });

    expect(campaign.status).toBe(400);
    expect(campaign.body.issues).toEqual([{ path: 'campaign_id', message: expect.stringContaining('ODP_ALLOWED_CAMPAIGNS') }]);
    expect(canvas.status).toBe(400);
    expect(canvas.body.issues).toEqual([{ path: 'canvas_id', message: expect.stringContaining('ODP_ALLOWED_CANVASES') }]);
    expect(await queueDepth(runner, 'braze-triggers')).toBe(0);
    expect(braze.requests).toHaveLength(0);
  });

  it("refuses by index a record whose fields would write Braze's push tokens, subscription state or identifiers, and triggers the others", async () => {
    const response = await post(runner, '/optimizely/activation', {
      target: 'campaign',
      campaign_id: 'camp-tokens',
      records: [
        { external_id: 'victim', fields: { push_tokens: [{ app_id: 'app', token: 'attacker-device' }] } },
        { external_id: 'u2', fields: { Email_Subscribe: 'opted_in' } },
        { external_id: 'u3', fields: { tier: 'gold' } },
      ],
    });

    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      accepted: 1,
      rejected: [
        { index: 0, issues: [{ path: 'records[0].fields.push_tokens', message: expect.stringContaining('push tokens') }] },
        { index: 1, issues: [{ path: 'records[1].fields.Email_Subscribe', message: expect.stringContaining('subscription state') }] },
      ],
    });
    await braze.waitForRequests(1);
    expect(recipientsOf(braze.requests)).toEqual([{ external_user_id: 'u3', trigger_properties: { tier: 'gold' }, attributes: { tier: 'gold' } }]);
  });

  it('does not count a Canvas Braze answers 201 with a notice (paused) as delivered: its recipients are parked with the reason', async () => {
    braze.respond = (request) =>
      (request.body as { canvas_id?: string }).canvas_id === 'canvas-paused'
        ? {
            status: 201,
            body: { notice: 'The Canvas is paused. Resume the Canvas to ensure trigger requests will take effect.', dispatch_id: 'd-3', message: 'success' },
          }
        : { status: 201, body: { dispatch_id: 'd-1', message: 'success' } };
    // What earlier tests delivered is counted once their messages are done.
    await eventually(async () => ((await queueDepth(runner, 'braze-triggers')) === 0 ? true : undefined), 10_000, 'earlier triggers done');
    const delivered = runner.metricCounts('braze-triggers-delivery').RecordsDelivered ?? 0;

    await post(runner, '/optimizely/activation', { target: 'canvas', canvas_id: 'canvas-paused', records: [{ external_id: 'p1' }, { external_id: 'p2' }] });

    const parked = await eventually(
      async () => {
        const found = (await peekDlq(runner, 'braze-triggers')).filter((m) => m.body.includes('canvas-paused'));
        return found.length === 2 ? found : undefined;
      },
      10_000,
      'both recipients parked',
    );
    expect(parked.map((m) => m.attributes.parked_reason)).toEqual(['braze_trigger_notice:paused', 'braze_trigger_notice:paused']);
    expect(parked.map((m) => JSON.parse(m.body).recipient.external_user_id).sort()).toEqual(['p1', 'p2']);
    expect(runner.metricCounts('braze-triggers-delivery').RecordsDelivered ?? 0).toBe(delivered);
  });

  it('updates profiles through the /users/track lane, external_id or email as the identifier', async () => {
    await post(runner, '/optimizely/activation', {
      target: 'profile',
      records: [
        { external_id: 'user-1', fields: { odp_segment: 'vip' } },
        { email: 'b@example.com', fields: { odp_segment: 'new' } },
      ],
    });

    await braze.waitForRequests(1);
    expect(braze.requests[0]?.path).toBe('/users/track');
    expect(braze.requests[0]?.body).toEqual({
      attributes: [
        { external_id: 'user-1', odp_segment: 'vip' },
        { email: 'b@example.com', odp_segment: 'new' },
      ],
    });
  });

  it('refuses a campaign without campaign_id, an unknown target, and a record over 20 fields, naming the field', async () => {
    const noId = await post(runner, '/optimizely/activation', { target: 'campaign', records: [{ external_id: 'u' }] });
    const unknown = await post(runner, '/optimizely/activation', { target: 'push', records: [{ external_id: 'u' }] });
    const tooMany = await post(runner, '/optimizely/activation', {
      target: 'profile',
      records: [
        { external_id: 'u1', fields: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, i])) },
        { external_id: 'u2', fields: { ok: 1 } },
      ],
    });

    expect(noId.status).toBe(400);
    expect(noId.body.issues).toEqual([expect.objectContaining({ path: 'campaign_id' })]);
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues).toEqual([expect.objectContaining({ path: 'target' })]);
    expect(tooMany.status).toBe(202);
    expect(tooMany.body).toMatchObject({ accepted: 1, rejected: [{ index: 0, issues: [expect.objectContaining({ path: 'records[0].fields' })] }] });
  });

  it('parks the one recipient Braze refuses inside a success answer, with its reason', async () => {
    braze.respond = (request) =>
      request.path === '/campaigns/trigger/send'
        ? { status: 201, body: { dispatch_id: 'd-2', message: 'success', errors: [{ type: 'invalid_recipient', index: 1 }] } }
        : { status: 201, body: {} };

    await post(runner, '/optimizely/activation', {
      target: 'campaign',
      campaign_id: 'camp-9',
      records: [{ external_id: 'a' }, { external_id: 'b' }, { external_id: 'c' }],
    });

    const parked = await eventually(async () => (await peekDlq(runner, 'braze-triggers')).find((m) => m.body.includes('camp-9')), 10_000, 'DLQ');
    expect(parked.attributes.parked_reason).toBe('braze_trigger_error:invalid_recipient');
    expect(JSON.parse(parked.body).recipient.external_user_id).toBe(recipientsOf(braze.requests)[1]?.external_user_id);
    expect(await queueDepth(runner, 'braze-triggers')).toBe(0);
  });

  it('retries a trigger Braze throttles (429) when X-RateLimit-Reset says, and sends it once', async () => {
    braze.respond = (_request, index) =>
      index === 0
        ? { status: 429, body: {}, headers: { 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000)) } }
        : { status: 201, body: { message: 'success' } };

    await post(runner, '/optimizely/activation', { target: 'campaign', campaign_id: 'camp-429', records: [{ external_id: 'x' }] });

    await braze.waitForRequests(2);
    // The queue holds the trigger until Braze has taken it: once empty, no third request can come.
    await eventually(async () => ((await queueDepth(runner, 'braze-triggers')) === 0 ? true : undefined), 10_000, 'queue drained');
    expect(braze.requests.map((r) => r.path)).toEqual(['/campaigns/trigger/send', '/campaigns/trigger/send']);
  });
});
