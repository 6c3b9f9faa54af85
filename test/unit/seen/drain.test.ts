import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { catalogue } from '../../../functions/catalogue';
import { loadConfig } from '../../../functions/core/config';
import { MemoryDedupeStore } from '../../../functions/core/delivery/call-ledger';
import { type DrainResult, planCalls } from '../../../functions/core/delivery-consumer';
import { createDeps } from '../../../functions/core/deps';
import { HttpClient } from '../../../functions/core/http';
import { QueueSender } from '../../../functions/core/queue';
import { EnvSecretStore } from '../../../functions/core/secrets';
import { seenQueues } from '../../../functions/seen/catalogue';
import { build } from '../../../functions/seen/drain';
import type { SeenQueueMessage } from '../../../functions/seen/schemas';
import { FakeClock } from '../helpers';

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

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/seen-receivers';
const DLQ_URL = `${QUEUE_URL}-dlq`;
const context = { getRemainingTimeInMillis: () => 50_000, awsRequestId: 'r', functionName: 'seen-drain' } as unknown as Context;

/**
 * The SEEN drain as deployed, over a queue kept in memory behind a mocked SQS client (receive takes
 * visible messages, delete drops them, a visibility change or a copy puts them back), a fake clock,
 * the call ledger in memory on that clock, and `answer` standing in for SEEN.
 */
function drainOver(env: Record<string, string>, answer: (receivers: { customer_id: string }[]) => number) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const clock = new FakeClock();
  const visible: Message[] = [];
  const inFlight = new Map<string, Message>();
  const parked: string[] = [];
  let ids = 0;
  const enqueue = (body: string) => {
    const id = `m${ids++}`;
    visible.push({ MessageId: id, ReceiptHandle: `receipt-${id}`, Body: body, Attributes: { ApproximateReceiveCount: '1' } });
  };
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const sqsMock = mockClient(sqs);
  sqsMock.on(ReceiveMessageCommand).callsFake((input: { MaxNumberOfMessages: number }) => {
    const batch = visible.splice(0, input.MaxNumberOfMessages);
    for (const message of batch) inFlight.set(message.ReceiptHandle!, message);
    return { Messages: batch };
  });
  sqsMock.on(DeleteMessageBatchCommand).callsFake((input: { Entries: { ReceiptHandle: string }[] }) => {
    for (const entry of input.Entries) inFlight.delete(entry.ReceiptHandle);
    return {};
  });
  sqsMock.on(ChangeMessageVisibilityBatchCommand).callsFake((input: { Entries: { ReceiptHandle: string }[] }) => {
    for (const entry of input.Entries) {
      const message = inFlight.get(entry.ReceiptHandle);
      inFlight.delete(entry.ReceiptHandle);
      if (message) visible.push(message);
    }
    return {};
  });
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] }) => {
    for (const entry of input.Entries) input.QueueUrl === DLQ_URL ? parked.push(entry.MessageBody) : enqueue(entry.MessageBody);
    return { Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `sent-${entry.Id}` })), Failed: [] };
  });
  const calls: { at: number; receivers: { customer_id: string }[] }[] = [];
  const fetch: typeof globalThis.fetch = async (_url, init) => {
    const receivers = JSON.parse(String(init?.body)) as { customer_id: string }[];
    calls.push({ at: clock.now(), receivers });
    return new Response('{}', { status: answer(receivers) });
  };
  const config = loadConfig({ LOG_LEVEL: 'SILENT', QUEUE_URL, DLQ_URL, SEEN_API_URL: 'https://api.seen.example', SEEN_API_TOKEN: 'seen-token', ...env });
  const deps = createDeps('seen-drain', config, {
    sqs,
    queue: new QueueSender(sqs),
    clock,
    http: new HttpClient({ fetch, clock }),
    secrets: EnvSecretStore.fromConfig(config),
    dedupe: new MemoryDedupeStore(clock),
  });
  const handler = build(deps, catalogue.queue('seen-receivers'));
  const run = async () => (await handler({}, context)) as DrainResult;
  const receiver = (campaign: string, customerId: string) =>
    enqueue(
      JSON.stringify({ v: 1, flow: 'seen-receivers', requestId: `req-${customerId}`, campaign, receivers: [{ customer_id: customerId, first_name: 'Ada' }] }),
    );
  return { clock, run, receiver, calls, parked, visible, inFlight };
}

describe('the SEEN drain and its hourly budget', () => {
  it(
    'sends exactly 3 calls in an hour of fake time with SEEN_MAX_CALLS_PER_HOUR=3 and a 10 s drain: the first ' +
      '3 at the first three runs, the others as the hour allows',
    async () => {
      const drain = drainOver({ SEEN_MAX_CALLS_PER_HOUR: '3', SEEN_DRAIN_INTERVAL_SECONDS: '10' }, () => 201);
      const start = drain.clock.now();
      for (const campaign of ['a', 'b', 'c', 'd', 'e']) drain.receiver(campaign, `${campaign}-1`);

      for (let t = 0; t <= 3700; t += 10) {
        drain.clock.current = start + t * 1000;
        await drain.run();
      }

      const seconds = drain.calls.map((call) => (call.at - start) / 1000);
      expect(seconds.filter((s) => s < 3600)).toEqual([0, 10, 20]);
      // The first call's slot frees an hour after it (to the second), the next run takes it.
      expect(seconds).toEqual([0, 10, 20, 3610, 3620]);
      expect(drain.calls.flatMap((call) => call.receivers.map((r) => r.customer_id))).toEqual(['a-1', 'b-1', 'c-1', 'd-1', 'e-1']);
      expect(drain.visible).toHaveLength(0);
    },
  );

  it('parks only the receiver SEEN refuses in a combined call, bisecting it; the others are delivered once', async () => {
    const drain = drainOver({}, (receivers) => (receivers.some((r) => r.customer_id === 'bad') ? 400 : 201));
    for (const id of ['a', 'b', 'bad', 'c']) drain.receiver('onboarding', id);

    const result = await drain.run();

    expect(drain.calls[0]?.receivers.map((r) => r.customer_id)).toEqual(['a', 'b', 'bad', 'c']);
    const delivered = drain.calls
      .filter((call) => !call.receivers.some((r) => r.customer_id === 'bad'))
      .flatMap((call) => call.receivers.map((r) => r.customer_id));
    expect(delivered.sort()).toEqual(['a', 'b', 'c']);
    expect(drain.parked.map((body) => (JSON.parse(body) as SeenQueueMessage).receivers.map((r) => r.customer_id))).toEqual([['bad']]);
    expect(drain.inFlight.size + drain.visible.length).toBe(0);
    expect(result.calls).toBe(1);
  });
});
