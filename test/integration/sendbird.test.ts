import { createHmac } from 'node:crypto';
import { eventually, type StubRequest, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const API_TOKEN = 'sendbird-api-token-9';
type Notification = { mode: string; template: { key: string; variables: Record<string, unknown> }; targets: string[]; push_template?: unknown };
const bodyOf = (request: StubRequest) => request.body as Notification;

function env(sendbirdUrl: string, brazeUrl: string, extra: Record<string, string> = {}) {
  return {
    INBOUND_TOKEN: 'sb-inbound',
    SENDBIRD_API_URL: sendbirdUrl,
    SENDBIRD_API_TOKEN: API_TOKEN,
    BRAZE_REST_ENDPOINT: brazeUrl,
    BRAZE_API_KEY: 'braze-key',
    ...extra,
  };
}

const webhook = (overrides: Record<string, unknown> = {}) => ({
  template_key: 'order-shipped',
  variables: { order: 'A-1' },
  recipient: 'user-1',
  ...overrides,
});

describe('sendbird-notifications: a campaign combined into batch calls, through the local runner', () => {
  const sendbird = new StubServer(() => ({ status: 200, body: { notification_id: 'n' } }));
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' } }));
  let runner: Runner;

  beforeAll(async () => {
    // 100 targets per call, so 500 webhooks make 5 calls (as 50,000 make 5 at Sendbird's 10,000).
    runner = await startTestRunner(env(await sendbird.start(), await braze.start(), { SENDBIRD_MAX_TARGETS_PER_CALL: '100' }), {
      startConsumers: false,
      consumerOverrides: { maxBatchingWindowSeconds: 3 },
    });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => sendbird.stop(),
      () => braze.stop(),
    ),
  );

  it('sends a 500-user campaign (one webhook per user) as 5 calls of 100 targets, each user once', async () => {
    const users = Array.from({ length: 500 }, (_, i) => `user-${i}`);
    for (let i = 0; i < users.length; i += 100) {
      const answers = await Promise.all(users.slice(i, i + 100).map((user) => post(runner, '/sendbird/notifications', webhook({ recipient: user }))));
      expect(answers.every((answer) => answer.status === 202 && answer.body.accepted === 1)).toBe(true);
    }
    expect(await queueDepth(runner, 'sendbird-batch')).toBe(500);

    runner.startConsumers();
    await eventually(() => (sendbird.requests.flatMap((r) => bodyOf(r).targets).length >= users.length ? true : undefined), 30_000, 'every target');

    expect(sendbird.requests).toHaveLength(5);
    const targets = sendbird.requests.flatMap((r) => bodyOf(r).targets);
    expect(targets.sort()).toEqual([...users].sort());
    for (const request of sendbird.requests) {
      expect(request.path).toBe('/v1/notifications');
      expect(request.headers['api-token']).toBe(API_TOKEN);
      expect(bodyOf(request)).toMatchObject({ mode: 'batch', template: { key: 'order-shipped', variables: { order: 'A-1' } } });
      expect(bodyOf(request).targets).toHaveLength(100);
    }
  });
});

describe('sendbird-notifications and sendbird-status, through the local runner', () => {
  const sendbird = new StubServer(() => ({ status: 200, body: { notification_id: 'n' } }));
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' } }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(env(await sendbird.start(), await braze.start()), {
      consumerOverrides: { maxBatchingWindowSeconds: 0.5 },
      queueOverrides: { visibilityTimeoutSeconds: 2 },
    });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => sendbird.stop(),
      () => braze.stop(),
    ),
  );
  beforeEach(() => {
    sendbird.requests.length = 0;
    braze.requests.length = 0;
    sendbird.respond = () => ({ status: 200, body: { notification_id: 'n' } });
  });

  it('sends a realtime webhook at once, one target per call, with the token from the secret and not the template', async () => {
    const response = await post(
      runner,
      '/sendbird/notifications',
      webhook({ mode: 'realtime', recipient: undefined, targets: ['a', 'b', 'c'], push_template: { title: 'Shipped', body: 'On its way' } }),
    );

    expect(response).toEqual({ status: 202, body: { accepted: 3 } });
    await sendbird.waitForRequests(3);
    expect(sendbird.requests.map((r) => bodyOf(r).targets).sort()).toEqual([['a'], ['b'], ['c']]);
    expect(sendbird.requests.every((r) => bodyOf(r).mode === 'realtime' && r.headers['api-token'] === API_TOKEN)).toBe(true);
    expect(bodyOf(sendbird.requests[0]!).push_template).toEqual({ title: 'Shipped', body: 'On its way' });
  });

  it('never puts two templates in one call, and gives each target of a call its own variables', async () => {
    await Promise.all([
      post(runner, '/sendbird/notifications', webhook({ recipient: 'u1', variables: { order: 'A' } })),
      post(runner, '/sendbird/notifications', webhook({ recipient: 'u2', variables: { order: 'B' }, template_key: 'order-delayed' })),
      post(runner, '/sendbird/notifications', webhook({ recipient: 'u3', variables: { order: 'C' } })),
    ]);

    await eventually(() => (sendbird.requests.flatMap((r) => bodyOf(r).targets).length >= 3 ? true : undefined), 10_000, 'three targets');
    const variablesOf = (target: string) => {
      const request = sendbird.requests.find((r) => bodyOf(r).targets.includes(target))!;
      const { targets, template } = bodyOf(request);
      return targets.length > 1 ? template.variables[target] : template.variables;
    };
    expect(sendbird.requests.map((r) => [bodyOf(r).template.key, bodyOf(r).targets.sort()]).sort()).toEqual(
      expect.arrayContaining([['order-delayed', ['u2']]]),
    );
    expect(sendbird.requests.flatMap((r) => bodyOf(r).targets).sort()).toEqual(['u1', 'u2', 'u3']);
    expect([variablesOf('u1'), variablesOf('u2'), variablesOf('u3')]).toEqual([{ order: 'A' }, { order: 'B' }, { order: 'C' }]);
  });

  it('does not notify a user twice when Braze retries the same webhook (same id)', async () => {
    await post(runner, '/sendbird/notifications', webhook({ mode: 'realtime', recipient: 'retry-user', id: 'dispatch-7:retry-user' }));
    await sendbird.waitForRequests(1);
    await post(runner, '/sendbird/notifications', webhook({ mode: 'realtime', recipient: 'retry-user', id: 'dispatch-7:retry-user' }));
    await eventually(async () => ((await queueDepth(runner, 'sendbird-realtime')) === 0 ? true : undefined), 10_000, 'queue drained');

    expect(sendbird.requests).toHaveLength(1);
  });

  it('notifies every recipient of batch webhooks that share one id (a campaign dispatch id), the first alone and the others later', async () => {
    await post(runner, '/sendbird/notifications', webhook({ recipient: 'dispatch-user-1', id: 'dispatch-8' }));
    await sendbird.waitForRequests(1);
    await Promise.all(
      ['dispatch-user-2', 'dispatch-user-3'].map((user) => post(runner, '/sendbird/notifications', webhook({ recipient: user, id: 'dispatch-8' }))),
    );

    await eventually(() => (sendbird.requests.flatMap((r) => bodyOf(r).targets).length >= 3 ? true : undefined), 10_000, 'three recipients');
    expect(sendbird.requests.flatMap((r) => bodyOf(r).targets).sort()).toEqual(['dispatch-user-1', 'dispatch-user-2', 'dispatch-user-3']);
  });

  it('refuses a webhook with neither targets nor recipient, naming the field', async () => {
    const response = await post(runner, '/sendbird/notifications', { template_key: 'x' });

    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([expect.objectContaining({ path: 'targets' })]);
  });

  describe('status', () => {
    const statusBody = JSON.stringify([
      { user_id: 'user-1', status: 'SENT', notification_id: 'notif-9', template_key: 'order-shipped', timestamp: 1_701_886_845_000 },
      { user_id: 'user-1', status: 'READ', notification_id: 'notif-9' },
    ]);
    const sign = (body: string, key = API_TOKEN) => createHmac('sha256', key).update(body).digest('hex');
    const postSigned = (body: string, signature: string | undefined, token?: string) =>
      fetch(`${runner.url}/sendbird/status`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(signature ? { 'x-sendbird-signature': signature } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body,
      });
    const events = () => braze.requests.flatMap((r) => (r.body as { events?: Record<string, unknown>[] }).events ?? []);

    it('turns signed SENT and READ statuses into Braze custom events', async () => {
      const response = await postSigned(statusBody, sign(statusBody));

      expect(response.status).toBe(202);
      await eventually(() => (events().length >= 2 ? true : undefined), 10_000, 'two events');
      expect(events()).toEqual(
        expect.arrayContaining([
          {
            external_id: 'user-1',
            name: 'sendbird_notification_status',
            time: '2023-12-06T18:20:45.000Z',
            properties: { status: 'SENT', notification_id: 'notif-9', template_key: 'order-shipped' },
          },
          expect.objectContaining({ external_id: 'user-1', name: 'sendbird_notification_status', properties: { status: 'READ', notification_id: 'notif-9' } }),
        ]),
      );
    });

    it('creates no second event when the same status arrives again', async () => {
      const again = JSON.stringify([{ user_id: 'user-2', status: 'READ', notification_id: 'notif-10' }]);

      expect((await postSigned(again, sign(again))).status).toBe(202);
      await eventually(() => (events().length >= 1 ? true : undefined), 10_000, 'the event');
      expect((await postSigned(again, sign(again))).status).toBe(202);
      await eventually(async () => ((await queueDepth(runner, 'braze-track')) === 0 ? true : undefined), 10_000, 'queue drained');

      expect(events()).toHaveLength(1);
    });

    it('refuses a wrong or missing signature without a token (401) and forwards nothing', async () => {
      const body = JSON.stringify({ user_id: 'user-3', status: 'SENT', notification_id: 'n-3' });

      expect((await postSigned(body, sign(body, 'another-token'))).status).toBe(401);
      expect((await postSigned(body, undefined)).status).toBe(401);
      expect((await postSigned(`${body} `, sign(body))).status).toBe(401);
      // A signed status sent after them: once it reaches Braze, anything they had queued would have too.
      const marker = JSON.stringify({ user_id: 'user-marker', status: 'SENT', notification_id: 'n-marker' });
      expect((await postSigned(marker, sign(marker))).status).toBe(202);
      await eventually(() => (events().length >= 1 ? true : undefined), 10_000, 'the marker event');
      await eventually(async () => ((await queueDepth(runner, 'braze-track')) === 0 ? true : undefined), 10_000, 'queue drained');

      expect(events().map((e) => e.external_id)).toEqual(['user-marker']);
    });

    it('accepts READ before SENT: each is its own event, whatever the order', async () => {
      const read = JSON.stringify({ user_id: 'user-5', status: 'READ', notification_id: 'n-5' });
      const sent = JSON.stringify({ user_id: 'user-5', status: 'SENT', notification_id: 'n-5' });

      expect((await postSigned(read, sign(read))).status).toBe(202);
      expect((await postSigned(sent, sign(sent))).status).toBe(202);
      await eventually(() => (events().length >= 2 ? true : undefined), 10_000, 'two events');

      expect(
        events()
          .map((e) => (e.properties as { status: string }).status)
          .sort(),
      ).toEqual(['READ', 'SENT']);
    });

    it('accepts the inbound token instead of a signature', async () => {
      const body = JSON.stringify({ user_id: 'user-4', status: 'SENT', notification_id: 'n-4', event_name: 'custom_status' });

      expect((await postSigned(body, undefined, 'sb-inbound')).status).toBe(202);
      await eventually(() => (events().length >= 1 ? true : undefined), 10_000, 'the event');
      expect(events()[0]).toMatchObject({ external_id: 'user-4', name: 'custom_status' });
    });
  });
});

describe('a Sendbird outage, through the local runner', () => {
  const sendbird = new StubServer((_request, index) => (index === 0 ? { status: 429, body: {}, headers: { 'retry-after': '0' } } : { status: 503, body: {} }));
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(
      { INBOUND_TOKEN: 'sb-inbound', SENDBIRD_API_URL: await sendbird.start(), SENDBIRD_API_TOKEN: API_TOKEN },
      { consumerOverrides: { maxBatchingWindowSeconds: 0.2 }, queueOverrides: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } },
    );
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => sendbird.stop(),
    ),
  );

  it('retries 429 and 5xx, then parks the notification in the DLQ, the token only ever in the Api-Token header', async () => {
    await post(runner, '/sendbird/notifications', webhook({ mode: 'realtime', recipient: 'outage-user' }));

    const parked = await eventually(async () => (await peekDlq(runner, 'sendbird-realtime')).find((m) => m.body.includes('outage-user')), 20_000, 'DLQ');
    expect(JSON.parse(parked.body)).toMatchObject({ mode: 'realtime', targets: ['outage-user'] });
    expect(sendbird.requests).toHaveLength(2 * 3); // 2 receives x (1 + 2 retries)
    for (const request of sendbird.requests) {
      expect(request.headers['api-token']).toBe(API_TOKEN);
      expect(request.path).not.toContain(API_TOKEN);
      expect(JSON.stringify(request.body)).not.toContain(API_TOKEN);
      expect(request.headers.authorization).toBeUndefined();
    }
  });
});
