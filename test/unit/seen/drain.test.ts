import type { Message } from '@aws-sdk/client-sqs';
import { planCalls } from '../../../functions/seen/drain';
import type { SeenQueueMessage } from '../../../functions/seen/schemas';

interface HeldMessage {
  message: Message;
  body: SeenQueueMessage;
}

/** A received queue message of `count` receivers for `campaign`. */
function held(id: string, campaign: string, count: number): HeldMessage {
  return {
    message: { MessageId: id, ReceiptHandle: `receipt-${id}`, Body: '' },
    body: {
      v: 1,
      flow: 'seen-receivers',
      requestId: `req-${id}`,
      campaign,
      receivers: Array.from({ length: count }, (_, i) => ({ customer_id: `${id}-${i}` })),
    },
  };
}

const ids = (calls: HeldMessage[][]) => calls.map((call) => call.map((entry) => entry.message.MessageId));
const receiversIn = (call: HeldMessage[]) => call.reduce((sum, entry) => sum + entry.body.receivers.length, 0);

describe('planCalls', () => {
  it('plans no call for no messages', () => {
    expect(planCalls([], 100)).toEqual([]);
  });

  it('combines the messages of one campaign into one call while they fit', () => {
    const messages = [held('a1', 'onboarding', 30), held('a2', 'onboarding', 30), held('a3', 'onboarding', 40)];

    const calls = planCalls(messages, 100);

    expect(ids(calls)).toEqual([['a1', 'a2', 'a3']]);
  });

  it('never mixes campaigns in one call, since each call goes to its campaign URL', () => {
    const messages = [held('a1', 'onboarding', 10), held('b1', 'winback', 10), held('a2', 'onboarding', 10), held('b2', 'winback', 10)];

    const calls = planCalls(messages, 100);

    expect(ids(calls)).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    for (const call of calls) expect(new Set(call.map((entry) => entry.body.campaign)).size).toBe(1);
  });

  it('keeps messages whole, packing them first-fit up to the per-call cap', () => {
    const messages = [held('a1', 'onboarding', 60), held('a2', 'onboarding', 50), held('a3', 'onboarding', 30), held('b1', 'winback', 100)];

    const calls = planCalls(messages, 100);

    expect(ids(calls)).toEqual([['a1', 'a3'], ['a2'], ['b1']]);
    expect(calls.map(receiversIn)).toEqual([90, 50, 100]);
  });

  it('places every held message in exactly one call and never exceeds the cap', () => {
    const campaigns = ['onboarding', 'winback', 'renewal'];
    const messages = Array.from({ length: 60 }, (_, i) => held(`m${i}`, campaigns[i % 3] ?? 'onboarding', 1 + ((i * 37) % 100)));

    const calls = planCalls(messages, 100);

    const placed = calls.flat();
    expect(placed).toHaveLength(messages.length);
    expect(new Set(placed)).toEqual(new Set(messages));
    expect(Math.max(...calls.map(receiversIn))).toBeLessThanOrEqual(100);
  });

  it('adds at most one call per extra message, so the drain can stop receiving at its budget', () => {
    const messages = Array.from({ length: 40 }, (_, i) => held(`m${i}`, i % 2 === 0 ? 'onboarding' : 'winback', 1 + ((i * 53) % 100)));

    for (let n = 1; n <= messages.length; n++) {
      expect(planCalls(messages.slice(0, n), 100).length - planCalls(messages.slice(0, n - 1), 100).length).toBeLessThanOrEqual(1);
    }
  });
});
