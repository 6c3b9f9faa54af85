import { planCalls } from '../../../functions/core/delivery-consumer';
import type { SeenQueueMessage } from '../../../functions/seen/schemas';
import { seenQueues } from '../../../functions/seen/catalogue';

/**
 * The SEEN drain plans its calls with the generic consumer's planCalls, as its catalogue entry
 * says: grouped per campaign (each call goes to its campaign URL), messages kept whole.
 */
interface HeldMessage {
  id: string;
  body: SeenQueueMessage;
}

/** A received queue message of `count` receivers for `campaign`. */
function held(id: string, campaign: string, count: number): HeldMessage {
  return {
    id,
    body: {
      v: 1,
      flow: 'seen-receivers',
      requestId: `req-${id}`,
      campaign,
      receivers: Array.from({ length: count }, (_, i) => ({ customer_id: `${id}-${i}` })),
    },
  };
}

/** The options the SEEN drain plans with: receivers per message, one campaign per call. */
const seenPlan = (capacity: number, bytesPerCall?: number) => ({
  capacity,
  weight: (entry: HeldMessage) => entry.body.receivers.length,
  bytes: (entry: HeldMessage) => Buffer.byteLength(JSON.stringify(entry.body)),
  bytesPerCall,
  group: (entry: HeldMessage) => entry.body.campaign,
});
const plan = (messages: readonly HeldMessage[], capacity: number, bytesPerCall?: number) => planCalls(messages, seenPlan(capacity, bytesPerCall));

const ids = (calls: HeldMessage[][]) => calls.map((call) => call.map((entry) => entry.id));
const receiversIn = (call: HeldMessage[]) => call.reduce((sum, entry) => sum + entry.body.receivers.length, 0);
const bytesIn = (call: HeldMessage[]) => call.reduce((sum, entry) => sum + seenPlan(1).bytes(entry), 0);

describe('the seen-receivers queue', () => {
  it('is grouped, so the drain can plan one campaign per call', () => {
    expect(seenQueues.find((queue) => queue.id === 'seen-receivers')?.limits.grouped).toBe(true);
  });
});

describe('planCalls (SEEN drain: grouped by campaign)', () => {
  it('plans no call for no messages', () => {
    expect(plan([], 100)).toEqual([]);
  });

  it('combines the messages of one campaign into one call while they fit', () => {
    const messages = [held('a1', 'onboarding', 30), held('a2', 'onboarding', 30), held('a3', 'onboarding', 40)];

    const calls = plan(messages, 100);

    expect(ids(calls)).toEqual([['a1', 'a2', 'a3']]);
  });

  it('never mixes campaigns in one call, since each call goes to its campaign URL', () => {
    const messages = [held('a1', 'onboarding', 10), held('b1', 'winback', 10), held('a2', 'onboarding', 10), held('b2', 'winback', 10)];

    const calls = plan(messages, 100);

    expect(ids(calls)).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    for (const call of calls) expect(new Set(call.map((entry) => entry.body.campaign)).size).toBe(1);
  });

  it('never lets two groups share a call, even when a byte budget cuts the calls and every message would fit in one', () => {
    const campaigns = ['onboarding', 'winback', 'renewal'];
    const messages = Array.from({ length: 30 }, (_, i) => held(`m${i}`, campaigns[i % 3]!, 1 + (i % 4)));

    const calls = plan(messages, 1000, 600);

    expect(calls.length).toBeGreaterThan(campaigns.length);
    for (const call of calls) expect(new Set(call.map((entry) => entry.body.campaign)).size).toBe(1);
    expect(calls.flat()).toHaveLength(messages.length);
  });

  it('keeps messages whole, packing them first-fit up to the per-call cap', () => {
    const messages = [held('a1', 'onboarding', 60), held('a2', 'onboarding', 50), held('a3', 'onboarding', 30), held('b1', 'winback', 100)];

    const calls = plan(messages, 100);

    expect(ids(calls)).toEqual([['a1', 'a3'], ['a2'], ['b1']]);
    expect(calls.map(receiversIn)).toEqual([90, 50, 100]);
  });

  it('cuts a call at bytesPerCall, keeping each message whole', () => {
    const messages = [held('a1', 'onboarding', 10), held('a2', 'onboarding', 10), held('a3', 'onboarding', 10)];
    const oneMessage = seenPlan(1).bytes(messages[0]!);

    const calls = plan(messages, 100, 2 * oneMessage + 10);

    expect(ids(calls)).toEqual([['a1', 'a2'], ['a3']]);
    for (const call of calls) expect(bytesIn(call)).toBeLessThanOrEqual(2 * oneMessage + 10);
    // Whole messages: every receiver is in exactly one call, with the message it came in.
    expect(calls.flat().map((entry) => entry.body)).toEqual(messages.map((entry) => entry.body));
  });

  it('gives a message heavier than the byte budget a call of its own rather than drop or split it', () => {
    const messages = [held('a1', 'onboarding', 2), held('a2', 'onboarding', 50), held('a3', 'onboarding', 2)];

    const calls = plan(messages, 100, seenPlan(1).bytes(messages[0]!) * 3);

    expect(ids(calls)).toEqual([['a1', 'a3'], ['a2']]);
  });

  it('places every held message in exactly one call and never exceeds the cap', () => {
    const campaigns = ['onboarding', 'winback', 'renewal'];
    const messages = Array.from({ length: 60 }, (_, i) => held(`m${i}`, campaigns[i % 3] ?? 'onboarding', 1 + ((i * 37) % 100)));

    const calls = plan(messages, 100);

    const placed = calls.flat();
    expect(placed).toHaveLength(messages.length);
    expect(new Set(placed)).toEqual(new Set(messages));
    expect(Math.max(...calls.map(receiversIn))).toBeLessThanOrEqual(100);
  });

  it('adds at most one call per extra message, so the drain can stop receiving at its budget', () => {
    const messages = Array.from({ length: 40 }, (_, i) => held(`m${i}`, i % 2 === 0 ? 'onboarding' : 'winback', 1 + ((i * 53) % 100)));

    for (let n = 1; n <= messages.length; n++) {
      expect(plan(messages.slice(0, n), 100).length - plan(messages.slice(0, n - 1), 100).length).toBeLessThanOrEqual(1);
    }
  });
});
