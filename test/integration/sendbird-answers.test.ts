import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, type StubAnswer, type StubRequest, StubServer } from '../../bench/support/stub-server';
import type { Runner } from '../../local/runner';
import { peekDlq, post, queueDepth, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const API_TOKEN = 'sendbird-api-token-answers';
type Notification = { mode: string; template: { key: string; variables: Record<string, unknown> }; targets: string[] };
const bodyOf = (request: StubRequest) => request.body as Notification;
/** A Sendbird answer fixture (test/fixtures/sendbird, each naming the page it comes from). */
const answer = (name: string): StubAnswer => {
  const { status, body } = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/sendbird', name), 'utf8')) as { status: number; body: unknown };
  return { status, body };
};
const sent: StubAnswer = { status: 200, body: { notification_id: 'n' } };

/**
 * A Sendbird stand-in answering per target: the first target of a call that has answers scripted
 * takes the next one; anything else is sent.
 */
function scriptedSendbird(script: Record<string, StubAnswer[]>) {
  return new StubServer((request) => {
    for (const target of bodyOf(request).targets ?? []) {
      const next = script[target]?.shift();
      if (next) return next;
    }
    return sent;
  });
}

const env = (sendbirdUrl: string) => ({ INBOUND_TOKEN: 'sb-inbound', SENDBIRD_API_URL: sendbirdUrl, SENDBIRD_API_TOKEN: API_TOKEN });
const webhook = (recipient: string, extra: Record<string, unknown> = {}) => ({
  template_key: 'order-shipped',
  variables: { order: `order-of-${recipient}` },
  recipient,
  ...extra,
});
const callsTo = (stub: StubServer, target: string) => stub.requests.filter((r) => bodyOf(r).targets.includes(target));

describe('Sendbird answers on the realtime lane, through the local runner', () => {
  const script: Record<string, StubAnswer[]> = {
    'rate-limited-user': [answer('answer-200-rate-limited.json')],
    'refused-user': [answer('answer-200-invalid-value.json'), answer('answer-200-invalid-value.json')],
    'key-user': [answer('answer-400-permission-denied.json'), answer('answer-400-permission-denied.json')],
  };
  const sendbird = scriptedSendbird(script);
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(env(await sendbird.start()), {
      consumerOverrides: { maxBatchingWindowSeconds: 0.2 },
      queueOverrides: { visibilityTimeoutSeconds: 2 },
    });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => sendbird.stop(),
    ),
  );

  it('sends a notification again after "error": true with a retryable code inside a 200, instead of counting it delivered', async () => {
    await post(runner, '/sendbird/notifications', webhook('rate-limited-user', { mode: 'realtime' }));

    await eventually(() => (callsTo(sendbird, 'rate-limited-user').length >= 2 ? true : undefined), 15_000, 'a second call');
    await eventually(async () => ((await queueDepth(runner, 'sendbird-realtime')) === 0 ? true : undefined), 10_000, 'queue drained');

    expect(callsTo(sendbird, 'rate-limited-user')).toHaveLength(2);
    expect((await peekDlq(runner, 'sendbird-realtime')).filter((m) => m.body.includes('rate-limited-user'))).toEqual([]);
  });

  it('parks a notification Sendbird refuses inside a 200, with its code as the reason, without sending it again', async () => {
    await post(runner, '/sendbird/notifications', webhook('refused-user', { mode: 'realtime' }));

    const parked = await eventually(async () => (await peekDlq(runner, 'sendbird-realtime')).find((m) => m.body.includes('refused-user')), 15_000, 'parked');

    expect(parked.attributes.parked_reason).toBe('sendbird_400111');
    expect(JSON.parse(parked.body)).toMatchObject({ targets: ['refused-user'] });
    expect(callsTo(sendbird, 'refused-user')).toHaveLength(1);
  });

  it('parks nothing for a 400 whose code is 403100 (our key): the notification waits and goes once the key is accepted', async () => {
    await post(runner, '/sendbird/notifications', webhook('key-user', { mode: 'realtime' }));

    // Refused twice (the call, then once more with the secret read afresh), then taken on the next receive.
    await eventually(() => (callsTo(sendbird, 'key-user').length >= 3 ? true : undefined), 15_000, 'the retry after the key fault');
    await eventually(async () => ((await queueDepth(runner, 'sendbird-realtime')) === 0 ? true : undefined), 10_000, 'queue drained');

    expect(callsTo(sendbird, 'key-user')).toHaveLength(3);
    expect((await peekDlq(runner, 'sendbird-realtime')).filter((m) => m.body.includes('key-user'))).toEqual([]);
  });
});

describe('Sendbird answers on the batch lane: a campaign combined into one call, through the local runner', () => {
  const script: Record<string, StubAnswer[]> = { 'u-a': [answer('answer-207-partial.json')] };
  // The fixture's 207 names u-failed; here the campaign's second user stands in for it.
  script['u-a']![0]!.body = { ...(script['u-a']![0]!.body as object), failed_targets: ['u-failed'] };
  const sendbird = scriptedSendbird(script);
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(env(await sendbird.start()), {
      startConsumers: false,
      consumerOverrides: { maxBatchingWindowSeconds: 1 },
      queueOverrides: { visibilityTimeoutSeconds: 2 },
    });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => sendbird.stop(),
    ),
  );

  it(
    'sends personalised webhooks of one campaign in one call with per-user variables; a 207 parks only the ' + 'target it names, the others are not sent again',
    async () => {
      for (const user of ['u-a', 'u-failed', 'u-c']) expect((await post(runner, '/sendbird/notifications', webhook(user))).status).toBe(202);

      runner.startConsumers();
      const parked = await eventually(async () => (await peekDlq(runner, 'sendbird-batch'))[0], 15_000, 'the failed target parked');
      await eventually(async () => ((await queueDepth(runner, 'sendbird-batch')) === 0 ? true : undefined), 10_000, 'queue drained');

      expect(sendbird.requests).toHaveLength(1);
      expect(bodyOf(sendbird.requests[0]!)).toEqual({
        mode: 'batch',
        template: {
          key: 'order-shipped',
          variables: { 'u-a': { order: 'order-of-u-a' }, 'u-failed': { order: 'order-of-u-failed' }, 'u-c': { order: 'order-of-u-c' } },
        },
        targets: ['u-a', 'u-failed', 'u-c'],
      });
      expect(parked.attributes.parked_reason).toBe('sendbird_207100');
      expect(JSON.parse(parked.body)).toMatchObject({ targets: ['u-failed'], template: { variables: { order: 'order-of-u-failed' } } });
      expect(await peekDlq(runner, 'sendbird-batch')).toHaveLength(1);
    },
  );
});

describe('two webhooks giving one user different variables, through the local runner', () => {
  const sendbird = scriptedSendbird({});
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner(env(await sendbird.start()), { startConsumers: false, consumerOverrides: { maxBatchingWindowSeconds: 1 } });
  });
  afterAll(() =>
    stopAll(
      () => runner?.stop(),
      () => sendbird.stop(),
    ),
  );

  it('sends them in separate calls (per-user variables hold one set per user), parking nothing', async () => {
    await post(runner, '/sendbird/notifications', webhook('twice', { variables: { order: 'first' } }));
    await post(runner, '/sendbird/notifications', webhook('twice', { variables: { order: 'second' } }));
    await post(runner, '/sendbird/notifications', webhook('other'));

    runner.startConsumers();
    await eventually(() => (sendbird.requests.flatMap((r) => bodyOf(r).targets).length >= 3 ? true : undefined), 15_000, 'three targets');
    await eventually(async () => ((await queueDepth(runner, 'sendbird-batch')) === 0 ? true : undefined), 10_000, 'queue drained');

    const orders = sendbird.requests
      .filter((r) => bodyOf(r).targets.includes('twice'))
      .map((r) => {
        const { targets, template } = bodyOf(r);
        return (targets.length > 1 ? (template.variables.twice as { order: string }) : (template.variables as { order: string })).order;
      });
    expect(orders.sort()).toEqual(['first', 'second']);
    expect(sendbird.requests.every((r) => new Set(bodyOf(r).targets).size === bodyOf(r).targets.length)).toBe(true);
    expect(await peekDlq(runner, 'sendbird-batch')).toEqual([]);
  });
});
