import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { loadConfig } from '../../../functions/core/config';
import { createQueuedIngress, type HttpEvent } from '../../../functions/core/ingress';
import { createLogger, createMetrics } from '../../../functions/core/observability';
import { MAX_SQS_BATCH_BYTES, MESSAGE_ID_ATTRIBUTE, type OutgoingMessage, QueueSender } from '../../../functions/core/queue';
import type { SecretStore } from '../../../functions/core/secrets';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/test-queue';
const TOKEN = 'test-inbound-token';
const FLOW_ID = 'test-ingress';

/** A queue that records what it is asked to send instead of calling SQS. */
class FakeQueue extends QueueSender {
  readonly sent: { queueUrl: string; messages: OutgoingMessage[] }[] = [];

  constructor() {
    super(new SQSClient({ region: 'eu-west-1' }));
  }

  override async sendAll(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<string[]> {
    this.sent.push({ queueUrl, messages: [...messages] });
    return messages.map((_, i) => `mid-${i}`);
  }
}

const context: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: FLOW_ID,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${FLOW_ID}`,
  memoryLimitInMB: '256',
  awsRequestId: 'aws-request-1',
  logGroupName: `/aws/lambda/${FLOW_ID}`,
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

function post(body: unknown): HttpEvent {
  return {
    version: '2.0',
    routeKey: 'POST /test',
    rawPath: '/test',
    rawQueryString: '',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'example.com',
      domainPrefix: 'example',
      http: { method: 'POST', path: '/test', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'request-1',
      routeKey: 'POST /test',
      stage: '$default',
      time: '15/Jan/2024:12:00:00 +0000',
      timeEpoch: Date.UTC(2024, 0, 15, 12, 0, 0),
    },
  };
}

/** An ingress that queues each record of a JSON array as one message, with a `flow` attribute. */
function ingress() {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const config = loadConfig({ LOG_LEVEL: 'SILENT', QUEUE_URL });
  const logger = createLogger(config, FLOW_ID);
  const queue = new FakeQueue();
  // The inbound token comes from its own secret; the outbound credentials are not the ingress's to read.
  const secrets: SecretStore = {
    get: async () => {
      throw new Error('an ingress must not read the outbound credentials');
    },
    inboundTokens: async () => [TOKEN],
    refresh: async () => undefined,
  };
  const handler = createQueuedIngress(
    {
      flow: { id: FLOW_ID, source: 'lytics', auth: ['bearer'], limits: { maxRecords: 10, maxDepth: 4 } },
      schema: z.array(z.object({ id: z.string(), note: z.string() })),
      toMessages: ({ body }) => ({
        accepted: body.length,
        messages: body.map((record) => ({ body: JSON.stringify(record), attributes: { flow: FLOW_ID } })),
      }),
    },
    { config, queue, secrets, logger, metrics: createMetrics(FLOW_ID, logger) },
  );
  return { handler, queue };
}

describe('createQueuedIngress: message size', () => {
  it('answers 413 naming the message, and enqueues nothing, when one message is over the SQS limit', async () => {
    const { handler, queue } = ingress();
    const records = [0, 1, 2, 3].map((i) => ({ id: `r${i}`, note: 'small' }));
    records[3] = { id: 'r3', note: 'x'.repeat(300_000) };
    // Body, the flow's `flow` attribute and the deterministic message id (32 hex characters) every message gets.
    const bytes = JSON.stringify(records[3]).length + 'flow'.length + 'String'.length + FLOW_ID.length + MESSAGE_ID_ATTRIBUTE.length + 'String'.length + 32;

    const result = await handler(post(records), context);

    expect(result.statusCode).toBe(413);
    expect(JSON.parse(result.body ?? '{}')).toEqual({ error: `message 3 of this request is ${bytes} bytes once queued; at most ${MAX_SQS_BATCH_BYTES}` });
    expect(queue.sent).toEqual([]);
  });

  it('counts the attributes too: a body just under the limit with its attributes is over it', async () => {
    const { handler, queue } = ingress();
    const fill = MAX_SQS_BATCH_BYTES - JSON.stringify({ id: 'r0', note: '' }).length - 5;

    const result = await handler(post([{ id: 'r0', note: 'x'.repeat(fill) }]), context);

    expect(result.statusCode).toBe(413);
    expect(queue.sent).toEqual([]);
  });

  it('enqueues every message and answers 202 when all are within the limit', async () => {
    const { handler, queue } = ingress();
    const records = [
      { id: 'r0', note: 'small' },
      { id: 'r1', note: 'x'.repeat(200_000) },
    ];

    const result = await handler(post(records), context);

    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body ?? '{}')).toEqual({ accepted: 2 });
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]?.queueUrl).toBe(QUEUE_URL);
    expect(queue.sent[0]?.messages.map((m) => JSON.parse(m.body))).toEqual(records);
  });

  it('gives every message a message id that a retry of the same request reproduces', async () => {
    const { handler, queue } = ingress();
    const records = [
      { id: 'r0', note: 'a' },
      { id: 'r1', note: 'b' },
    ];

    await handler(post(records), context);
    await handler(post(records), context);
    await handler(post([{ id: 'r0', note: 'other' }]), context);

    const ids = queue.sent.map((sent) => sent.messages.map((m) => m.attributes?.[MESSAGE_ID_ATTRIBUTE]));
    expect(ids[0]).toHaveLength(2);
    for (const id of ids[0]!) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids[0]).size).toBe(2);
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]![0]).not.toBe(ids[0]![0]);
  });
});
