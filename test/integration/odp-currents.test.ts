import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { eventually, type StubRequest, StubServer } from '../support/stub-server';
import { stopAll } from '../support/teardown';

const API_KEY = 'odp-private-key';
type OdpEvent = { type: string; action: string; data: Record<string, unknown> };
const delivered = (odp: OdpStub) => odp.requests.filter((_, i) => odp.answered[i] === 202).flatMap((r) => r.body as OdpEvent[]);

/** A Currents batch of `count` email opens, ids `${prefix}-${i}`. */
function batch(prefix: string, count: number) {
  return {
    events: Array.from({ length: count }, (_, i) => ({
      event_type: 'users.messages.email.Open',
      id: `${prefix}-${i}`,
      time: 1_701_886_845 + i,
      user: { user_id: `braze-${i}`, external_user_id: `user-${i}` },
      properties: { campaign_id: 'camp-1', email_address: `u${i}@example.com` },
    })),
  };
}

class OdpStub extends StubServer {
  readonly answered: number[] = [];
}

describe('odp-currents: Braze Currents into ODP events, through the local runner', () => {
  const odp = new OdpStub((request, index) => {
    const status = answer(request, index);
    odp.answered[index] = status;
    return { status, body: status === 202 ? { title: 'Accepted', status: 202 } : { title: 'Bad Request', status } };
  });
  let answer: (request: StubRequest, index: number) => number = () => 202;
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'currents-token', ODP_API_URL: await odp.start(), ODP_API_KEY: API_KEY },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.5 }, queueOverrides: { visibilityTimeoutSeconds: 2, maxReceiveCount: 2 } },
    );
  });
  afterAll(() => stopAll(() => runner?.stop(), () => odp.stop()));
  beforeEach(() => {
    odp.requests.length = 0;
    odp.answered.length = 0;
    answer = () => 202;
  });

  it('delivers a 100-event Currents batch to /v3/events with the x-api-key, every event once', async () => {
    const response = await post(runner, '/optimizely/currents', batch('hundred', 100));

    expect(response).toEqual({ status: 202, body: { accepted: 100 } });
    await eventually(() => (delivered(odp).length >= 100 ? true : undefined), 15_000, '100 events');
    expect(new Set(delivered(odp).map((e) => e.data._braze_event_id)).size).toBe(100);
    for (const request of odp.requests) {
      expect(request.path).toBe('/v3/events');
      expect(request.headers['x-api-key']).toBe(API_KEY);
      expect((request.body as unknown[]).length).toBeLessThanOrEqual(500);
    }
    expect(delivered(odp)[0]).toMatchObject({ type: 'email', action: 'open', identifiers: { customer_id: expect.any(String) } });
  });

  it('sends each event once when Currents resends the same batch', async () => {
    await post(runner, '/optimizely/currents', batch('resent', 20));
    await eventually(() => (delivered(odp).length >= 20 ? true : undefined), 10_000, 'first delivery');
    await post(runner, '/optimizely/currents', batch('resent', 20));
    await eventually(async () => ((await queueDepth(runner, 'odp-events')) === 0 ? true : undefined), 10_000, 'queue drained');

    expect(delivered(odp)).toHaveLength(20);
  });

  it('delivers once when ODP answers 503 then 202', async () => {
    answer = (_request, index) => (index === 0 ? 503 : 202);

    await post(runner, '/optimizely/currents', batch('flaky', 3));

    await eventually(() => (delivered(odp).length >= 3 ? true : undefined), 10_000, 'delivery');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(odp.answered).toEqual([503, 202]);
    expect(delivered(odp)).toHaveLength(3);
  });

  it('parks only the event ODP refuses (400), with its reason, and delivers the others of its call', async () => {
    answer = (request) => ((request.body as OdpEvent[]).some((e) => e.data._braze_event_id === 'mixed-1') ? 400 : 202);

    await post(runner, '/optimizely/currents', batch('mixed', 3));

    const parked = await eventually(async () => (await peekDlq(runner, 'odp-events')).find((m) => m.body.includes('mixed-1')), 10_000, 'DLQ');
    expect(parked.attributes.parked_reason).toBe('odp_400');
    await eventually(() => (delivered(odp).length >= 2 ? true : undefined), 10_000, 'the others');
    expect(delivered(odp).map((e) => e.data._braze_event_id).sort()).toEqual(['mixed-0', 'mixed-2']);
    await eventually(async () => ((await queueDepth(runner, 'odp-events')) === 0 ? true : undefined), 10_000, 'the queue empty');
  });

  it('refuses a batch with no valid event (400) and queues nothing', async () => {
    const response = await post(runner, '/optimizely/currents', { events: [{ event_type: 'users.messages.email.Open' }] });

    expect(response.status).toBe(400);
    expect(await queueDepth(runner, 'odp-events')).toBe(0);
  });
});
