/**
 * The fault matrix where time matters (issue 18): the real Braze track consumer, real HTTP to a
 * loopback stand-in for Braze, an injected clock, and SQS's receive count and visibility played
 * by the test through the real SDK client (aws-sdk-client-mock): what SQS would do across a day.
 * The dedupe race runs against the embedded DynamoDB (dynalite) that npm start uses.
 */
import { ChangeMessageVisibilityBatchCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { StubServer } from '../../bench/support/stub-server';
import { build } from '../../functions/braze/track-delivery';
import { catalogue } from '../../functions/catalogue';
import { loadConfig } from '../../functions/core/config';
import { DELIVERY_MAX_RECEIVE_COUNT } from '../../functions/core/delivery/backoff';
import { createDeps } from '../../functions/core/deps';
import { HttpClient } from '../../functions/core/http';
import { MESSAGE_ID_ATTRIBUTE } from '../../functions/core/queue';
import { EnvSecretStore } from '../../functions/core/secrets';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../local/embedded-dynamodb';
import { stopAll } from '../support/teardown';
import { FakeClock, sqsRecord } from '../unit/helpers';

const HOUR = 3600 * 1000;
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/braze-track';
const context = { getRemainingTimeInMillis: () => 60_000, awsRequestId: 'r', functionName: 'braze-track-delivery' } as unknown as Context;

const trackMessage = (externalId: string, dedupe?: string) =>
  JSON.stringify({
    v: 1,
    flow: 'test',
    requestId: `req-${externalId}`,
    ...(dedupe ? { dedupe } : {}),
    items: [{ kind: 'events', object: { external_id: externalId, name: 'e', time: '2024-01-15T12:00:00Z' } }],
  });

describe('fault matrix over time: the Braze track consumer against a loopback Braze', () => {
  const braze = new StubServer();
  let brazeUrl: string;
  let dynamo: EmbeddedDynamo | undefined;

  beforeAll(async () => {
    brazeUrl = await braze.start();
    dynamo = await startEmbeddedDynamo();
  });
  afterAll(() =>
    stopAll(
      () => braze.stop(),
      () => dynamo?.stop(),
    ),
  );
  beforeEach(() => {
    braze.requests.length = 0;
  });

  async function consumer(clock: FakeClock) {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const sqs = new SQSClient({ region: 'eu-west-1' });
    const sqsMock = mockClient(sqs);
    sqsMock.onAnyCommand().resolves({});
    sqsMock
      .on(SendMessageBatchCommand)
      .callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `copy-${e.Id}` })), Failed: [] }));
    const config = loadConfig({ LOG_LEVEL: 'SILENT', QUEUE_URL, DLQ_URL: `${QUEUE_URL}-dlq`, BRAZE_REST_ENDPOINT: brazeUrl, BRAZE_API_KEY: 'k' });
    const deps = createDeps('braze-track-delivery', config, {
      sqs,
      clock,
      secrets: EnvSecretStore.fromConfig(config),
      http: new HttpClient({ clock, policy: { retries: 2, baseDelayMs: 100, maxDelayMs: 20_000, timeoutMs: 5_000 } }),
      dedupe: await dynamo!.dedupeStore(),
    });
    const handler = build(deps, catalogue.queue('braze-track')) as unknown as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
    /** The last visibility the consumer set for a receipt handle, in seconds. */
    const waitOf = (receipt: string) =>
      sqsMock
        .commandCalls(ChangeMessageVisibilityBatchCommand)
        .flatMap((call) => call.args[0].input.Entries ?? [])
        .filter((entry) => entry.ReceiptHandle === receipt)
        .at(-1)?.VisibilityTimeout;
    const parked = () =>
      sqsMock
        .commandCalls(SendMessageBatchCommand)
        .filter((call) => call.args[0].input.QueueUrl === `${QUEUE_URL}-dlq`)
        .flatMap((call) => call.args[0].input.Entries ?? []);
    return { handler, waitOf, parked };
  }

  it('parks nothing through a 24-hour 503 outage and delivers once Braze is back, before SQS would move the message to the DLQ', async () => {
    const clock = new FakeClock();
    const outageEnds = clock.now() + 24 * HOUR;
    braze.respond = () => (clock.now() < outageEnds ? { status: 503 } : { status: 201, body: { message: 'success' } });
    const { handler, waitOf, parked } = await consumer(clock);

    let receives = 0;
    let delivered = false;
    while (!delivered) {
      receives++;
      // SQS moves a message to the DLQ on the receive after maxReceiveCount.
      expect(receives).toBeLessThanOrEqual(DELIVERY_MAX_RECEIVE_COUNT);
      const result = await handler({ Records: [sqsRecord('m-1', trackMessage('u-1'), receives)] }, context);
      delivered = result.batchItemFailures.length === 0;
      if (!delivered) clock.current += waitOf('receipt-m-1')! * 1000;
    }

    expect(clock.now()).toBeGreaterThanOrEqual(outageEnds);
    expect(parked()).toEqual([]);
    expect(braze.requests.at(-1)?.body).toMatchObject({ events: [{ external_id: 'u-1' }] });
  });

  it('waits for the X-RateLimit-Reset of a 429 an hour away, then delivers', async () => {
    const clock = new FakeClock();
    const reset = Math.floor(clock.now() / 1000) + 3600;
    braze.respond = () =>
      clock.now() < reset * 1000 ? { status: 429, headers: { 'x-ratelimit-reset': String(reset) } } : { status: 201, body: { message: 'success' } };
    const { handler, waitOf } = await consumer(clock);

    const first = await handler({ Records: [sqsRecord('m-2', trackMessage('u-2'), 1)] }, context);

    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    expect(waitOf('receipt-m-2')).toBeGreaterThanOrEqual(3599);
    expect(waitOf('receipt-m-2')).toBeLessThanOrEqual(3600);
    clock.current += waitOf('receipt-m-2')! * 1000;
    const second = await handler({ Records: [sqsRecord('m-2', trackMessage('u-2'), 2)] }, context);
    expect(second.batchItemFailures).toEqual([]);
  });

  it('sends one call for two concurrent copies of one dedupe id (two invocations at once), and the copy is done once the first is delivered', async () => {
    const clock = new FakeClock();
    braze.respond = () => ({ status: 201, body: { message: 'success' }, delayMs: 300 });
    const { handler } = await consumer(clock);
    const record = (id: string, receives = 1) => {
      const r = sqsRecord(id, trackMessage('u-3', 'dedupe-race-1'), receives);
      // Two requests of the sender (a retry): different message ids, one dedupe key.
      r.messageAttributes = { [MESSAGE_ID_ATTRIBUTE]: { stringValue: `mid-${id}`, dataType: 'String', stringListValues: [], binaryListValues: [] } };
      return r;
    };

    const [one, two] = await Promise.all([handler({ Records: [record('copy-a')] }, context), handler({ Records: [record('copy-b')] }, context)]);

    expect(braze.requests).toHaveLength(1);
    // The copy that lost the claim was put back untried (a fresh copy: no receive spent), not dropped.
    expect([...one.batchItemFailures, ...two.batchItemFailures]).toEqual([]);
    // When the put-back copy comes round, the key is delivered: done, not sent again.
    const again = await handler({ Records: [record('copy-b', 1)] }, context);
    expect(again.batchItemFailures).toEqual([]);
    expect(braze.requests).toHaveLength(1);
  });
});
