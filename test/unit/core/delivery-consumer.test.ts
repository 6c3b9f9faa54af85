import { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import * as z from 'zod/mini';
import { refusedObjects } from '../../../functions/braze/track-delivery';
import type { DeliveryLimits, DeliveryQueue } from '../../../functions/core/catalogue-types';
import { loadConfig } from '../../../functions/core/config';
import { createDeliveryConsumer, type DeliverySpec, itemsPerCall, type Refusal } from '../../../functions/core/delivery-consumer';
import { createDeps, type Deps } from '../../../functions/core/deps';
import { DestinationConfigError, PermanentDeliveryError, RetryableDeliveryError, TooLargeDeliveryError } from '../../../functions/core/errors';
import { type OutgoingMessage, QueueSender } from '../../../functions/core/queue';
import { EnvSecretStore, type SecretStore } from '../../../functions/core/secrets';
import type { TrackMessage } from '../../../functions/core/track-queue';
import { FakeClock, sqsRecord } from '../helpers';

const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/test-dlq';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/test';
/** Time the invocation has left; the consumer keeps a safety margin back from it. */
const REMAINING_MS = 10_000;

const schema = z.object({ id: z.string(), group: z.optional(z.string()), items: z.array(z.string()) });
type Body = z.infer<typeof schema>;

/** A queue that records what it is asked to send instead of calling SQS, and can be made to fail. */
class FakeQueue extends QueueSender {
  readonly sent: { queueUrl: string; messages: OutgoingMessage[] }[] = [];
  failWith: Error | undefined;

  constructor() {
    super(new SQSClient({ region: 'eu-west-1' }));
  }

  override async sendAll(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<string[]> {
    if (this.failWith) throw this.failWith;
    this.sent.push({ queueUrl, messages: [...messages] });
    return messages.map((_, i) => `dlq-${i}`);
  }
}

function context(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test-delivery',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:test-delivery',
    memoryLimitInMB: '256',
    awsRequestId: 'request-1',
    logGroupName: '/aws/lambda/test-delivery',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => REMAINING_MS,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const eventOf = (...bodies: Body[]): SQSEvent => ({ Records: bodies.map((body) => sqsRecord(`msg-${body.id}`, JSON.stringify(body))) });

/** A catalogue queue driven by Lambda's SQS event source, with the limits a test gives it. */
function testQueue(limits: Partial<DeliveryLimits> = {}): DeliveryQueue {
  return {
    id: 'test-queue',
    destination: 'test',
    lane: 'realtime',
    description: 'test queue',
    rateLimit: 'test',
    limits: { itemsPerCall: 2, concurrency: 1, ...limits },
    drive: { kind: 'event-source', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 1 },
    consumer: { entry: 'functions/test.ts', flowId: 'test-delivery', timeoutSeconds: 30, memoryMb: 256 },
    maxReceiveCount: 5,
  };
}

/** A consumer of `{ id, items }` messages: by default two items per call, one call at a time. */
function consumerWith(
  send: (bodies: Body[], deadline: number) => Promise<Refusal<Body>[]>,
  options: { limits?: Partial<DeliveryLimits>; settings?: Record<string, unknown>; spec?: Partial<DeliverySpec<typeof schema>> } = {},
) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const clock = new FakeClock();
  const queue = new FakeQueue();
  const config = loadConfig({ LOG_LEVEL: 'SILENT', DLQ_URL, QUEUE_URL });
  const secrets: SecretStore = new EnvSecretStore({});
  const refreshes = jest.spyOn(secrets, 'refresh');
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const sqsMock = mockClient(sqs);
  sqsMock.onAnyCommand().resolves({});
  const deps: Deps = createDeps('test-delivery', config, { clock, queue, secrets, sqs });
  const metric = jest.spyOn(deps.metrics, 'addMetric');
  const warn = jest.spyOn(deps.logger, 'warn');
  const error = jest.spyOn(deps.logger, 'error');
  const sends: Body[][] = [];
  const consume = createDeliveryConsumer(
    {
      queue: testQueue(options.limits),
      settings: options.settings ?? {},
      schema,
      weight: (body) => body.items.length,
      send: async (bodies, call) => {
        sends.push(bodies);
        return send(bodies, call.deadline);
      },
      ...options.spec,
    },
    deps,
  );
  const handler = async (event: SQSEvent, invocation: Context) => (await consume(event, invocation)) as SQSBatchResponse;
  /** The waits set through the messages' visibility: receipt handle -> seconds. */
  const waits = () =>
    Object.fromEntries(
      sqsMock
        .commandCalls(ChangeMessageVisibilityBatchCommand)
        .flatMap((call) => (call.args[0].input.Entries ?? []).map((entry) => [entry.ReceiptHandle, entry.VisibilityTimeout])),
    );
  return { handler, clock, queue, sends, warn, error, refreshes, waits, metric };
}

const logged = (spy: jest.SpyInstance, message: string) => spy.mock.calls.filter((call) => call[0] === message);

describe('createDeliveryConsumer (event source): the deadline', () => {
  it('starts no call whose turn comes after the deadline and puts its messages back untried, spending no receive', async () => {
    const { handler, clock, sends, warn, queue, waits } = consumerWith(async () => {
      clock.current += REMAINING_MS; // the first call takes the clock past the deadline
      return [];
    });

    const result = await handler(eventOf({ id: 'a', items: ['1', '2'] }, { id: 'b', items: ['3', '4'] }, { id: 'c', items: ['5'] }), context());

    expect(sends).toEqual([[{ id: 'a', items: ['1', '2'] }]]);
    expect(result.batchItemFailures).toEqual([]);
    expect(queue.sent).toEqual([
      {
        queueUrl: QUEUE_URL,
        messages: [
          { body: JSON.stringify({ id: 'b', items: ['3', '4'] }), attributes: {}, delaySeconds: 0 },
          { body: JSON.stringify({ id: 'c', items: ['5'] }), attributes: {}, delaySeconds: 0 },
        ],
      },
    ]);
    expect(waits()).toEqual({});
    const lateLogs = logged(warn, 'deadline reached: calls not started, messages put back untried');
    expect(lateLogs).toEqual([['deadline reached: calls not started, messages put back untried', { calls: 2, messages: 2 }]]);
  });

  it('leaves untried messages to SQS when they cannot be put back', async () => {
    const { handler, clock, queue } = consumerWith(async () => {
      clock.current += REMAINING_MS;
      return [];
    });
    queue.failWith = new Error('AccessDenied');

    const result = await handler(eventOf({ id: 'a', items: ['1', '2'] }, { id: 'b', items: ['3'] }), context());

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-b' }]);
  });

  it('makes every call while the deadline is not reached', async () => {
    const { handler, clock, sends, warn } = consumerWith(async () => {
      clock.current += 1_000;
      return [];
    });

    const result = await handler(eventOf({ id: 'a', items: ['1', '2'] }, { id: 'b', items: ['3', '4'] }), context());

    expect(sends).toHaveLength(2);
    expect(result.batchItemFailures).toEqual([]);
    expect(logged(warn, 'deadline reached: calls not started, messages put back untried')).toEqual([]);
  });
});

describe('createDeliveryConsumer (event source): records refused inside a success answer', () => {
  /** Refuses item '4' of whichever body holds it, naming that body's index. */
  const refuseItem4 = async (bodies: Body[]): Promise<Refusal<Body>[]> =>
    bodies.flatMap((body, bodyIndex) =>
      body.items.includes('4') ? [{ body: { ...body, items: ['4'] }, reason: 'test_refused:bad_item', records: 1, bodyIndex }] : [],
    );

  it('parks them in the DLQ with the reason and retries nothing', async () => {
    const { handler, queue } = consumerWith(refuseItem4);

    const result = await handler(eventOf({ id: 'a', items: ['1'] }, { id: 'b', items: ['4'] }), context());

    expect(result.batchItemFailures).toEqual([]);
    expect(queue.sent).toEqual([
      { queueUrl: DLQ_URL, messages: [{ body: JSON.stringify({ id: 'b', items: ['4'] }), attributes: { parked_reason: 'test_refused:bad_item' } }] },
    ]);
  });

  it('leaves the message they came from to SQS, and logs it without payload, when the DLQ cannot take them', async () => {
    const { handler, queue, error } = consumerWith(refuseItem4);
    queue.failWith = new Error('AccessDenied');

    const result = await handler(eventOf({ id: 'a', items: ['1'] }, { id: 'b', items: ['4'] }), context());

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-b' }]);
    const logs = logged(error, 'could not park refused records');
    expect(logs).toHaveLength(1);
    expect(logs[0]?.[1]).toMatchObject({ count: 1, reason: 'test_refused:bad_item' });
    expect(JSON.stringify(logs[0])).not.toContain('"4"');
  });

  it('retries the whole call when a refusal names no body of the call, rather than drop it', async () => {
    const { handler, queue } = consumerWith(async (bodies) => [{ body: bodies[0]!, reason: 'test_refused:bad_item', records: 1, bodyIndex: 7 }]);
    queue.failWith = new Error('AccessDenied');

    const result = await handler(eventOf({ id: 'a', items: ['1'] }, { id: 'b', items: ['4'] }), context());

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-a' }, { itemIdentifier: 'msg-b' }]);
  });
});

describe('createDeliveryConsumer (event source): fault classes', () => {
  const ids = (sends: Body[][]) => sends.map((bodies) => bodies.map((body) => body.id));

  it('reads the secret afresh and tries once more on a configuration fault: a rotated key delivers, nothing parked', async () => {
    let refusals = 1;
    const { handler, sends, queue, refreshes } = consumerWith(async () => {
      if (refusals-- > 0) throw new DestinationConfigError('test answered 401', 401);
      return [];
    });

    const result = await handler(eventOf({ id: 'a', items: ['1'] }), context());

    expect(result.batchItemFailures).toEqual([]);
    expect(refreshes).toHaveBeenCalledWith('test');
    expect(ids(sends)).toEqual([['a'], ['a']]);
    expect(queue.sent).toEqual([]);
  });

  it('parks nothing when the key stays refused: the call is not retried record by record, its messages wait, the rest are put back untried', async () => {
    const { handler, sends, queue, refreshes, waits, metric } = consumerWith(async () => {
      throw new DestinationConfigError('test answered 403', 403);
    });

    const result = await handler(eventOf({ id: 'a', items: ['1'] }, { id: 'b', items: ['2'] }, { id: 'c', items: ['3', '4'] }), context());

    expect(ids(sends)).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(refreshes).toHaveBeenCalledTimes(1);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-a' }, { itemIdentifier: 'msg-b' }]);
    expect(waits()).toEqual({ 'receipt-msg-a': 30, 'receipt-msg-b': 30 });
    expect(queue.sent).toEqual([
      { queueUrl: QUEUE_URL, messages: [{ body: JSON.stringify({ id: 'c', items: ['3', '4'] }), attributes: {}, delaySeconds: 30 }] },
    ]);
    expect(metric).toHaveBeenCalledWith('DestinationConfigFaults', 'Count', 1);
  });

  it('waits longer with every receive, up to DELIVERY_BACKOFF_MAX_SECONDS', async () => {
    const { handler, waits } = consumerWith(async () => {
      throw new RetryableDeliveryError('test answered 503', 503);
    });
    const records = [2, 4, 9].map((receives, i) => sqsRecord(`msg-${i}`, JSON.stringify({ id: String(i), items: ['1', '2'] }), receives));

    await handler({ Records: records }, context());

    // 30 s doubling per receive: 60 s after the 2nd, 240 s after the 4th, capped at 900 s.
    expect(waits()).toEqual({ 'receipt-msg-0': 60 });
    await handler({ Records: [records[1]!] }, context());
    await handler({ Records: [records[2]!] }, context());
    expect(waits()).toEqual({ 'receipt-msg-0': 60, 'receipt-msg-1': 240, 'receipt-msg-2': 900 });
  });

  it('waits for the reset a 429 names, an hour away', async () => {
    const { handler, waits, metric } = consumerWith(async () => {
      throw new RetryableDeliveryError('test answered 429', 429, { retryAfterMs: 3_600_000 });
    });

    const result = await handler(eventOf({ id: 'a', items: ['1'] }), context());

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-a' }]);
    expect(waits()).toEqual({ 'receipt-msg-a': 3600 });
    expect(metric).toHaveBeenCalledWith('DownstreamThrottled', 'Count', 1);
  });

  it('bisects a combined call refused for one bad record: only that record is parked, the others delivered', async () => {
    const { handler, sends, queue } = consumerWith(
      async (bodies) => {
        if (bodies.some((body) => body.items.includes('bad'))) throw new PermanentDeliveryError('test answered 400', 400);
        return [];
      },
      { limits: { itemsPerCall: 4 } },
    );

    const result = await handler(
      eventOf({ id: 'a', items: ['1'] }, { id: 'b', items: ['bad'] }, { id: 'c', items: ['3'] }, { id: 'd', items: ['4'] }),
      context(),
    );

    expect(result.batchItemFailures).toEqual([]);
    expect(ids(sends)).toEqual([['a', 'b', 'c', 'd'], ['a', 'b'], ['a'], ['b'], ['c', 'd']]);
    expect(queue.sent).toEqual([
      { queueUrl: DLQ_URL, messages: [{ body: JSON.stringify({ id: 'b', items: ['bad'] }), attributes: { parked_reason: 'test_400' } }] },
    ]);
  });

  it('splits a call answered 413 until it fits, parking nothing, where records may be split', async () => {
    const { handler, sends, queue } = consumerWith(
      async (bodies) => {
        if (bodies.reduce((n, body) => n + body.items.length, 0) > 1) throw new TooLargeDeliveryError('test answered 413', 413);
        return [];
      },
      {
        limits: { itemsPerCall: 4 },
        spec: {
          split: (body, n) => [
            { ...body, items: body.items.slice(0, n) },
            { ...body, items: body.items.slice(n) },
          ],
        },
      },
    );

    const result = await handler(eventOf({ id: 'a', items: ['1', '2', '3'] }), context());

    expect(result.batchItemFailures).toEqual([]);
    expect(
      sends
        .filter((bodies) => bodies[0]!.items.length === 1)
        .flatMap((bodies) => bodies[0]!.items)
        .sort(),
    ).toEqual(['1', '2', '3']);
    expect(queue.sent).toEqual([]);
  });
});

describe('createDeliveryConsumer (event source): the limits of its catalogue entry', () => {
  const delivered = async () => [];

  it('lowers the records per call to its itemsPerCallSetting where set', async () => {
    const { handler, sends } = consumerWith(delivered, {
      limits: { itemsPerCall: 3, itemsPerCallSetting: 'TEST_MAX_PER_CALL' },
      settings: { TEST_MAX_PER_CALL: 1 },
    });

    await handler(eventOf({ id: 'a', items: ['1'] }, { id: 'b', items: ['2'] }, { id: 'c', items: ['3'] }), context());

    expect(sends.map((bodies) => bodies.map((body) => body.id))).toEqual([['a'], ['b'], ['c']]);
  });

  it('never puts records of two groups in one call where the limits are grouped', async () => {
    const { handler, sends } = consumerWith(delivered, {
      limits: { itemsPerCall: 10, grouped: true },
      spec: { group: (body) => body.group ?? '' },
    });

    await handler(eventOf({ id: 'a1', group: 'a', items: ['1'] }, { id: 'b1', group: 'b', items: ['2'] }, { id: 'a2', group: 'a', items: ['3'] }), context());

    expect(sends.map((bodies) => bodies.map((body) => body.id))).toEqual([['a1', 'a2'], ['b1']]);
  });

  it('refuses to build a grouped consumer that cannot tell the groups apart', () => {
    expect(() => consumerWith(delivered, { limits: { grouped: true } })).toThrow('test-queue: grouped limits need the spec');
  });

  it('cuts a call at bytesPerCall, keeping messages whole', async () => {
    const big = (id: string): Body => ({ id, items: ['x'.repeat(400)] });
    const { handler, sends } = consumerWith(delivered, { limits: { itemsPerCall: 10, bytesPerCall: 1000 } });

    await handler(eventOf(big('a'), big('b'), big('c')), context());

    expect(sends.map((bodies) => bodies.map((body) => body.id))).toEqual([['a', 'b'], ['c']]);
    expect(sends.flat()).toEqual([big('a'), big('b'), big('c')]);
  });

  it('spaces the starts of its calls to keep to callsPerSecond', async () => {
    const { handler, sends, clock } = consumerWith(delivered, { limits: { itemsPerCall: 1, callsPerSecond: 2 } });

    await handler(eventOf({ id: 'a', items: ['1'] }, { id: 'b', items: ['2'] }, { id: 'c', items: ['3'] }), context());

    expect(sends).toHaveLength(3);
    expect(clock.sleeps).toEqual([500, 500]);
  });
});

describe('itemsPerCall', () => {
  const limits: DeliveryLimits = { itemsPerCall: 75, itemsPerCallSetting: 'BRAZE_MAX_OBJECTS_PER_REQUEST', concurrency: 4 };

  it('is the catalogue figure when the setting is unset or not a positive whole number', () => {
    expect(itemsPerCall(limits, {})).toBe(75);
    expect(itemsPerCall(limits, { BRAZE_MAX_OBJECTS_PER_REQUEST: 0 })).toBe(75);
    expect(itemsPerCall(limits, { BRAZE_MAX_OBJECTS_PER_REQUEST: 7.5 })).toBe(75);
    expect(itemsPerCall({ itemsPerCall: 75, concurrency: 4 }, { BRAZE_MAX_OBJECTS_PER_REQUEST: 50 })).toBe(75);
  });

  it('is lowered by the setting, never raised', () => {
    expect(itemsPerCall(limits, { BRAZE_MAX_OBJECTS_PER_REQUEST: 50 })).toBe(50);
    expect(itemsPerCall(limits, { BRAZE_MAX_OBJECTS_PER_REQUEST: '20' })).toBe(20);
    expect(itemsPerCall(limits, { BRAZE_MAX_OBJECTS_PER_REQUEST: 500 })).toBe(75);
  });
});

describe('refusedObjects (braze track delivery)', () => {
  const message = (requestId: string, count: number): TrackMessage => ({
    v: 1,
    flow: 'test',
    requestId,
    items: Array.from({ length: count }, (_, i) => ({ kind: 'attributes' as const, object: { external_id: `${requestId}-${i}` } })),
  });

  it('names the index of the message each refused object came from', () => {
    const messages = [message('a', 2), message('b', 3)];

    const refusals = refusedObjects(messages, [
      { itemIndex: 1, type: 'invalid' },
      { itemIndex: 3, type: 'invalid' },
    ]);

    expect(refusals.map(({ bodyIndex, records, body }) => ({ bodyIndex, records, ids: body.items.map((item) => item.object.external_id) }))).toEqual([
      { bodyIndex: 0, records: 1, ids: ['a-1'] },
      { bodyIndex: 1, records: 1, ids: ['b-1'] },
    ]);
  });
});
