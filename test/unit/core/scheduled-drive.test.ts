import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import * as z from 'zod/mini';
import type { DeliveryQueue } from '../../../functions/core/catalogue-types';
import { loadConfig } from '../../../functions/core/config';
import type { DedupeStore } from '../../../functions/core/dedupe';
import { type CallOptions, createDeliveryConsumer, type DrainResult } from '../../../functions/core/delivery-consumer';
import { createDeps } from '../../../functions/core/deps';
import { RetryableDeliveryError } from '../../../functions/core/errors';
import { MESSAGE_ID_ATTRIBUTE, QueueSender } from '../../../functions/core/queue';
import { FakeClock, sqsRecord } from '../helpers';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/test';
const schema = z.object({ group: z.string(), items: z.array(z.string()) });
type Body = z.infer<typeof schema>;

const context = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs, awsRequestId: 'r', functionName: 'f' }) as unknown as Context;

function queueDefinition(drive: DeliveryQueue['drive']): DeliveryQueue {
  return {
    id: 'test-queue',
    destination: 'test',
    lane: 'realtime',
    description: 'test',
    rateLimit: 'test',
    limits: { itemsPerCall: 10, grouped: true, concurrency: 1 },
    drive,
    consumer: { entry: 'functions/test.ts', flowId: 'test-delivery', timeoutSeconds: 50, memoryMb: 256 },
    maxReceiveCount: 5,
  };
}

const scheduled = queueDefinition({
  kind: 'schedule',
  intervalSetting: 'TEST_INTERVAL',
  localIntervalSeconds: 10,
  budget: { callsSetting: 'TEST_CALLS', windowSetting: 'TEST_WINDOW' },
});

function message(id: string, body: Body, dedupeId?: string): Message {
  return {
    MessageId: id,
    ReceiptHandle: `receipt-${id}`,
    Body: JSON.stringify(body),
    Attributes: { ApproximateReceiveCount: '1' },
    MessageAttributes: dedupeId ? { [MESSAGE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: dedupeId } } : undefined,
  };
}

function setup(queue: DeliveryQueue, settings: Record<string, unknown>, clock = new FakeClock(), send?: (bodies: Body[], call: CallOptions) => Promise<[]>) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const sqsMock = mockClient(sqs);
  sqsMock.on(DeleteMessageBatchCommand).resolves({});
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({});
  sqsMock
    .on(SendMessageBatchCommand)
    .callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `copy-${e.Id}` })), Failed: [] }));
  const calls: Body[][] = [];
  const config = loadConfig({ LOG_LEVEL: 'SILENT', QUEUE_URL, DLQ_URL: `${QUEUE_URL}-dlq` });
  const deps = createDeps('test-delivery', config, { sqs, queue: new QueueSender(sqs), clock });
  const handler = createDeliveryConsumer(
    {
      queue,
      settings,
      schema,
      weight: (body) => body.items.length,
      group: (body) => body.group,
      send: async (bodies, call) => {
        calls.push(bodies);
        return send ? send(bodies, call) : [];
      },
    },
    deps,
  );
  return { handler, sqsMock, calls };
}

/** Makes the mocked queue hand out `waiting` in order, as many as each receive asks; resolves how many were received. */
function serve(sqsMock: ReturnType<typeof mockClient>, waiting: readonly Message[]): () => number {
  let next = 0;
  sqsMock.on(ReceiveMessageCommand).callsFake((input: { MaxNumberOfMessages: number }) => {
    const batch = waiting.slice(next, next + input.MaxNumberOfMessages);
    next += batch.length;
    return { Messages: batch };
  });
  return () => next;
}

describe('the scheduled drive', () => {
  // 120 calls per 600 s window, a run every 60 s: 120 / (10 + 2) = 10 calls per run.
  const settings = { TEST_INTERVAL: 60, TEST_CALLS: 120, TEST_WINDOW: 600 };

  it('long-polls its queue, so a run does not end on one empty short poll while messages are on their way', async () => {
    const { handler, sqsMock } = setup(scheduled, settings);
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [] });

    await handler({}, context(50_000));

    const receives = sqsMock.commandCalls(ReceiveMessageCommand);
    expect(receives).toHaveLength(1);
    expect(receives[0]!.args[0].input.WaitTimeSeconds).toBe(20);
  });

  it('makes at most its per-run share of the budget, one group per call, and leaves the rest queued', async () => {
    const { handler, sqsMock, calls } = setup(scheduled, settings);
    const waiting = Array.from({ length: 30 }, (_, i) => message(`m${i}`, { group: `g${i}`, items: [`r${i}`] }));
    const received = serve(sqsMock, waiting);

    const result = (await handler({}, context(50_000))) as DrainResult;

    expect(result).toMatchObject({ calls: 10, budget: 10, failedMessages: 0 });
    expect(calls).toHaveLength(10);
    expect(calls.every((call) => new Set(call.map((body) => body.group)).size === 1)).toBe(true);
    expect(received()).toBe(10); // received only what it could send
    // Long-polls while it holds nothing; tops up without waiting once it holds messages.
    const waits = sqsMock.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input.WaitTimeSeconds);
    expect(waits[0]).toBe(20);
    expect(waits.slice(1).every((wait) => wait === 0)).toBe(true);
  });

  it('delivers one copy of a message an ingress retry enqueued twice, and deletes both', async () => {
    const { handler, sqsMock, calls } = setup(scheduled, settings);
    const body = { group: 'g', items: ['a'] };
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('first', body, 'same-id'), message('copy', body, 'same-id')] })
      .resolves({ Messages: [] });

    await handler({}, context(50_000));

    expect(calls).toEqual([[body]]);
    const deleted = sqsMock
      .commandCalls(DeleteMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? [])
      .map((e) => e.ReceiptHandle);
    expect(deleted.sort()).toEqual(['receipt-copy', 'receipt-first']);
  });

  it('hands send a client with no in-process retry: every attempt spends budget, whatever the partner writes', async () => {
    let retries: number | undefined;
    const { handler, sqsMock } = setup(scheduled, settings, new FakeClock(), async (_bodies, call) => {
      retries = call.http.retryPolicy.retries;
      return [];
    });
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m', { group: 'g', items: ['a'] })] })
      .resolves({ Messages: [] });

    await handler({}, context(50_000));

    expect(retries).toBe(0);
  });

  it('lets a failed call wait one interval and puts the messages it did not try back as copies, spending no receive', async () => {
    const { handler, sqsMock, calls } = setup(scheduled, settings, new FakeClock(), async () => {
      throw new RetryableDeliveryError('test answered 503', 503);
    });
    const waiting = Array.from({ length: 3 }, (_, i) => message(`m${i}`, { group: `g${i}`, items: [`r${i}`] }));
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({ Messages: waiting }).resolves({ Messages: [] });

    const result = (await handler({}, context(50_000))) as DrainResult;

    expect(calls).toHaveLength(1);
    expect(result).toMatchObject({ calls: 1, records: 0, failedMessages: 3 });
    const waits = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(waits.map((entry) => [entry.ReceiptHandle, entry.VisibilityTimeout])).toEqual([['receipt-m0', 60]]);
    const copies = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(copies.map((entry) => [JSON.parse(entry.MessageBody!).group, entry.DelaySeconds])).toEqual([
      ['g1', 60],
      ['g2', 60],
    ]);
    const deleted = sqsMock
      .commandCalls(DeleteMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? [])
      .map((e) => e.ReceiptHandle);
    expect(deleted.sort()).toEqual(['receipt-m1', 'receipt-m2']);
  });

  it(
    'takes a budget under one call per run (10 an hour, a run a minute) and makes one call a run (the hour ' +
      'is kept by the call ledger: call-ledger.test.ts)',
    async () => {
      const { handler, sqsMock, calls } = setup(scheduled, { TEST_INTERVAL: 60, TEST_CALLS: 10, TEST_WINDOW: 3600 });
      const waiting = Array.from({ length: 3 }, (_, i) => message(`m${i}`, { group: `g${i}`, items: [`r${i}`] }));
      const received = serve(sqsMock, waiting);

      const result = (await handler({}, context(50_000))) as DrainResult;

      expect(result).toMatchObject({ calls: 1, budget: 1 });
      expect(calls).toHaveLength(1);
      expect(received()).toBe(1);
    },
  );
});

describe('the event-source drive', () => {
  it('delivers one copy of a message an ingress retry enqueued twice in the same batch', async () => {
    const { handler, calls } = setup(queueDefinition({ kind: 'event-source', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 1 }), {});
    const body = { group: 'g', items: ['a'] };
    const withId = (id: string) => ({
      ...sqsRecord(id, JSON.stringify(body)),
      messageAttributes: { [MESSAGE_ID_ATTRIBUTE]: { stringValue: 'same-id', dataType: 'String' } },
    });
    const event = { Records: [withId('first'), withId('copy')] } as SQSEvent;

    const result = (await handler(event, context(30_000))) as SQSBatchResponse;

    expect(calls).toEqual([[body]]);
    expect(result.batchItemFailures).toEqual([]);
  });

  it('spaces call starts to keep to callsPerSecond, shared by its concurrent invocations', async () => {
    const clock = new FakeClock();
    const definition = queueDefinition({ kind: 'event-source', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 2 });
    // 4 calls per second across 2 concurrent invocations: 2 per second, one start every 500 ms, in each.
    definition.limits = { itemsPerCall: 1, grouped: true, callsPerSecond: 4, concurrency: 1 };
    const { handler, calls } = setup(definition, {}, clock);
    const event = { Records: ['a', 'b', 'c', 'd'].map((id) => sqsRecord(id, JSON.stringify({ group: id, items: [id] }))) } as SQSEvent;

    await handler(event, context(30_000));

    expect(calls).toHaveLength(4);
    expect(clock.sleeps).toEqual([500, 500, 500]);
  });
});

describe('a deduping queue', () => {
  it('confirms only what the destination took and releases the rest, so a refused record redriven from the DLQ is not skipped as delivered', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const confirmed: string[] = [];
    const released: string[] = [];
    const store: DedupeStore = {
      claim: async (keys) => ({ claimed: new Set(keys), delivered: new Set(), inFlight: new Set() }),
      confirm: async (keys) => void confirmed.push(...keys),
      release: async (keys) => void released.push(...keys),
    };
    const definition = {
      ...queueDefinition({ kind: 'event-source', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 1 }),
      dedupe: { ttlSeconds: 60 },
    };
    const sqs = new SQSClient({ region: 'eu-west-1' });
    mockClient(sqs).onAnyCommand().resolves({});
    const config = loadConfig({ LOG_LEVEL: 'SILENT', DLQ_URL: `${QUEUE_URL}-dlq` });
    const handler = createDeliveryConsumer(
      {
        queue: definition,
        settings: {},
        schema,
        weight: (body) => body.items.length,
        group: (body) => body.group,
        dedupeKey: (body) => `key-${body.items[0]}`,
        // The destination refuses the first body of the call, takes the second.
        send: async (bodies) => [{ body: bodies[0]!, reason: 'refused', records: 1, bodyIndex: 0 }],
      },
      createDeps('test-delivery', config, { sqs, queue: new QueueSender(sqs), clock: new FakeClock(), dedupe: store }),
    );
    const event = { Records: ['a', 'b'].map((id) => sqsRecord(id, JSON.stringify({ group: 'g', items: [id] }))) } as SQSEvent;

    await handler(event, context(30_000));

    expect(confirmed).toEqual(['key-b']);
    expect(released).toEqual(['key-a']);
  });
});
