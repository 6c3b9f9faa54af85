import { eventually, type StubRequest, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';
import { readFixture } from '../unit/helpers';

const API_KEY = 'odp-private-key';
type OdpEvent = { type: string; action: string; identifiers: Record<string, string>; data: Record<string, unknown> };
type CurrentsEvent = Record<string, unknown> & { id: string; time: number };

/** ODP's success answer to /v3/events (ZaiusInc/node-sdk src/Api/Types/EventPayload.ts EventResponse). */
const ACCEPTED = { title: 'Accepted', status: 202, timestamp: '2024-01-15T12:00:00.000Z' };

/**
 * An ODP stand-in on loopback that records what it answered to each request. Its 400 is ODP's
 * error answer (ZaiusInc/node-sdk src/Api/lib/ApiV3.ts V3ErrorResponse): `detail.invalids` names
 * the refused events by their index in the array posted.
 */
class OdpStub extends StubServer {
  readonly answered: number[] = [];
  /** The events of the calls ODP accepted. */
  delivered(): OdpEvent[] {
    return this.requests.filter((_, i) => this.answered[i] === 202).flatMap((r) => r.body as OdpEvent[]);
  }
}

function odpStub(answer: () => (request: StubRequest, index: number) => { status: number; body: unknown }) {
  const odp: OdpStub = new OdpStub((request, index) => {
    const { status, body } = answer()(request, index);
    odp.answered[index] = status;
    return { status, body };
  });
  return odp;
}

/** A Currents batch of `count` email opens (Braze's Email Open example, connector page), ids `${prefix}-${i}`. */
function emailOpens(prefix: string, count: number, email = (i: number) => `u${i}@example.com`) {
  const example = (readFixture('odp/currents-connector-page.json') as { events: CurrentsEvent[] }).events[2]!;
  return {
    events: Array.from({ length: count }, (_, i) => ({
      ...example,
      id: `${prefix}-${i}`,
      time: example.time + i,
      properties: { ...(example.properties as object), email_address: email(i) },
    })),
  };
}

/**
 * Every event Braze documents, each with an id of its own (the published examples share one id,
 * which would make them one event to the bridge's dedupe): the custom Currents connector page's
 * examples, then Braze's 93 Custom HTTP samples.
 */
function documentedEvents(): CurrentsEvent[] {
  const page = (readFixture('odp/currents-connector-page.json') as { events: CurrentsEvent[] }).events;
  const samples = Object.values((readFixture('odp/currents-examples-custom-http.json') as { events: Record<string, CurrentsEvent> }).events);
  return [...page, ...samples].map((event, index) => ({ ...event, id: `documented-${index}` }));
}

describe('odp-currents: Braze Currents into ODP events, through the local runner', () => {
  let respond: (request: StubRequest, index: number) => { status: number; body: unknown } = () => ({ status: 202, body: ACCEPTED });
  const odp = odpStub(() => respond);
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'currents-token', ODP_API_URL: await odp.start(), ODP_API_KEY: API_KEY, ODP_EXTERNAL_ID_IDENTIFIER: 'braze_external_id' },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.5 }, queueOverrides: { visibilityTimeoutSeconds: 2, maxReceiveCount: 2 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => odp.stop(),
    ),
  );
  beforeEach(() => {
    odp.requests.length = 0;
    odp.answered.length = 0;
    respond = () => ({ status: 202, body: ACCEPTED });
  });

  it('answers the credential check Braze makes (zero events, an empty body) with a 2xx no-op, and 401 without the token', async () => {
    const zero = await post(runner, '/optimizely/currents', { events: [] });
    const empty = await post(runner, '/optimizely/currents', '');
    const noToken = await post(runner, '/optimizely/currents', '', null);
    const wrongToken = await post(runner, '/optimizely/currents', { events: [] }, 'not-the-token');

    expect(zero).toEqual({ status: 202, body: { accepted: 0 } });
    expect(empty).toEqual({ status: 202, body: { accepted: 0 } });
    expect(noToken.status).toBe(401);
    expect(wrongToken.status).toBe(401);
    expect(await queueDepth(runner, 'odp-events')).toBe(0);
    expect(odp.requests).toHaveLength(0);
  });

  it('accepts every event Braze documents and sends each to ODP with an ODP identifier and data.ts = its time', async () => {
    const events = documentedEvents();

    const response = await post(runner, '/optimizely/currents', { events });

    // Braze's agentconsole.ToolInvocation sample has neither an email nor an external id: not sent.
    expect(response).toEqual({ status: 202, body: { accepted: events.length - 1, skipped: 1 } });
    await eventually(() => (odp.delivered().length >= events.length - 1 ? true : undefined), 15_000, 'every documented event');
    const byId = new Map(odp.delivered().map((event) => [event.data._braze_event_id, event]));
    expect(byId.size).toBe(events.length - 1);
    for (const source of events) {
      const sent = byId.get(source.id);
      if (source.event_type === 'agentconsole.ToolInvocation') {
        expect(sent).toBeUndefined();
        continue;
      }
      expect(Object.keys(sent!.identifiers).length).toBeGreaterThan(0);
      expect(sent!.data.ts).toBe(source.time);
    }
    for (const request of odp.requests) {
      expect(request.path).toBe('/v3/events');
      expect(request.headers['x-api-key']).toBe(API_KEY);
    }
  });

  it('does not send an anonymous event (no email, no external id), never with identifiers {}, and counts it by type', async () => {
    const before = runner.metricCounts('odp-currents').RecordsWithoutIdentifier ?? 0;
    const push = (readFixture('odp/currents-connector-page.json') as { events: CurrentsEvent[] }).events[1]!;
    const anonymous = { ...push, id: 'anonymous-push', user: { user_id: 'braze-1', device_id: 'device-1' } };
    const known = emailOpens('known', 1).events[0];

    const response = await post(runner, '/optimizely/currents', { events: [anonymous, known] });

    expect(response).toEqual({ status: 202, body: { accepted: 1, skipped: 1 } });
    await eventually(() => (odp.delivered().length >= 1 ? true : undefined), 10_000, 'the known event');
    expect(odp.delivered().map((event) => event.data._braze_event_id)).toEqual(['known-0']);
    expect(odp.requests.flatMap((r) => r.body as OdpEvent[]).every((event) => Object.keys(event.identifiers).length > 0)).toBe(true);
    expect(runner.metricCounts('odp-currents').RecordsWithoutIdentifier).toBe(before + 1);
  });

  it('sends each event once when Currents resends the same batch', async () => {
    await post(runner, '/optimizely/currents', emailOpens('resent', 20));
    await eventually(() => (odp.delivered().length >= 20 ? true : undefined), 10_000, 'first delivery');
    await post(runner, '/optimizely/currents', emailOpens('resent', 20));
    await eventually(async () => ((await queueDepth(runner, 'odp-events')) === 0 ? true : undefined), 10_000, 'queue drained');

    expect(odp.delivered()).toHaveLength(20);
  });

  it('delivers once when ODP answers 503 then 202', async () => {
    respond = (_request, index) => (index === 0 ? { status: 503, body: { title: 'Service Unavailable', status: 503 } } : { status: 202, body: ACCEPTED });

    await post(runner, '/optimizely/currents', emailOpens('flaky', 3));

    await eventually(() => (odp.delivered().length >= 3 ? true : undefined), 10_000, 'delivery');
    await eventually(async () => ((await queueDepth(runner, 'odp-events')) === 0 ? true : undefined), 10_000, 'the queue empty');
    expect(odp.answered).toEqual([503, 202]);
    expect(odp.delivered()).toHaveLength(3);
  });

  it('bisects a 400 that names no event until only the refused one is parked (odp_400), and delivers the others of its call', async () => {
    respond = (request) =>
      (request.body as OdpEvent[]).some((e) => e.data._braze_event_id === 'mixed-1')
        ? { status: 400, body: { title: 'Bad Request', status: 400 } }
        : { status: 202, body: ACCEPTED };

    await post(runner, '/optimizely/currents', emailOpens('mixed', 3));

    const parked = await eventually(async () => (await peekDlq(runner, 'odp-events')).find((m) => m.body.includes('mixed-1')), 10_000, 'DLQ');
    expect(parked.attributes.parked_reason).toBe('odp_400');
    await eventually(() => (odp.delivered().length >= 2 ? true : undefined), 10_000, 'the others');
    expect(
      odp
        .delivered()
        .map((e) => e.data._braze_event_id)
        .sort(),
    ).toEqual(['mixed-0', 'mixed-2']);
    await eventually(async () => ((await queueDepth(runner, 'odp-events')) === 0 ? true : undefined), 10_000, 'the queue empty');
  });

  it('refuses a batch with no valid event (400 naming the field) and queues nothing', async () => {
    const response = await post(runner, '/optimizely/currents', { events: [{ event_type: 'users.messages.email.Open' }] });

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'events[0].id' })]));
    expect(await queueDepth(runner, 'odp-events')).toBe(0);
  });
});

describe('odp-currents: full batches (consumers started once the queue is filled)', () => {
  let respond: (request: StubRequest, index: number) => { status: number; body: unknown } = () => ({ status: 202, body: ACCEPTED });
  const odp = odpStub(() => respond);
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'currents-token', ODP_API_URL: await odp.start(), ODP_API_KEY: API_KEY },
      { startConsumers: false, consumerOverrides: { maxBatchingWindowSeconds: 1 }, queueOverrides: { visibilityTimeoutSeconds: 5 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => odp.stop(),
    ),
  );

  it('parks only the event ODP names in its 400 (detail.invalids) out of 500, and sends the 499 others in one more call', async () => {
    respond = (request) => {
      const events = request.body as OdpEvent[];
      const invalid = events.findIndex((e) => e.data._braze_event_id === 'invalids-137');
      return invalid === -1
        ? { status: 202, body: ACCEPTED }
        : {
            status: 400,
            body: {
              title: 'Bad Request',
              status: 400,
              timestamp: '2024-01-15T12:00:00.000Z',
              detail: { invalids: [{ event: invalid, message: 'email is not valid' }] },
            },
          };
    };
    const response = await post(runner, '/optimizely/currents', emailOpens('invalids', 500));
    expect(response).toEqual({ status: 202, body: { accepted: 500 } });
    expect(await queueDepth(runner, 'odp-events')).toBe(500);

    runner.startConsumers();

    await eventually(() => (odp.delivered().length >= 499 ? true : undefined), 20_000, '499 events');
    const parked = await eventually(async () => (await peekDlq(runner, 'odp-events')).find((m) => m.body.includes('invalids-137')), 10_000, 'DLQ');
    expect(parked.attributes.parked_reason).toBe('odp_invalid_event');
    await eventually(async () => ((await queueDepth(runner, 'odp-events')) === 0 ? true : undefined), 10_000, 'the queue empty');
    // One refused call (500 events when the poller gathered them all in one batch, fewer under
    // load), then one more call with its others: no bisection, which would take several 400s.
    const refused = odp.requests.filter((_request, i) => odp.answered[i] === 400);
    expect(refused).toHaveLength(1);
    const refusedSize = (refused[0]!.body as unknown[]).length;
    expect(odp.requests.filter((r) => (r.body as unknown[]).length === refusedSize - 1)).toHaveLength(1);
    expect(odp.answered.filter((status) => status !== 400).every((status) => status === 202)).toBe(true);
    expect(new Set(odp.delivered().map((e) => e.data._braze_event_id)).size).toBe(499);
    expect(await queueDepth(runner, 'odp-events', 'dlq')).toBe(1);
  });

  it('takes 1,000 events in one Currents batch and delivers each once, at most 500 per ODP call', async () => {
    odp.requests.length = 0;
    odp.answered.length = 0;
    respond = () => ({ status: 202, body: ACCEPTED });

    const response = await post(runner, '/optimizely/currents', emailOpens('thousand', 1_000));

    expect(response).toEqual({ status: 202, body: { accepted: 1_000 } });
    await eventually(() => (odp.delivered().length >= 1_000 ? true : undefined), 20_000, '1,000 events');
    expect(new Set(odp.delivered().map((e) => e.data._braze_event_id)).size).toBe(1_000);
    expect(odp.requests.every((r) => (r.body as unknown[]).length <= 500)).toBe(true);
  });

  it('refuses 1,001 events in one batch with 413 naming the limit', async () => {
    const response = await post(runner, '/optimizely/currents', emailOpens('too-many', 1_001));

    expect(response.status).toBe(413);
    expect(String(response.body.error)).toContain('1000');
  });
});
