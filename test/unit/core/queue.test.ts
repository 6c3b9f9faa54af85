import { SendMessageBatchCommand, type SendMessageBatchCommandInput, type SendMessageBatchResult, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { PayloadTooLargeError, RetryableDeliveryError } from '../../../functions/core/errors';
import { decodeMessageBody } from '../../../functions/core/message-body';
import { byteLength, MAX_SQS_BATCH_BYTES, messageId, type OutgoingMessage, packIntoMessages, QueueSender, queuedBytes } from '../../../functions/core/queue';
import { rejectionOf } from '../helpers';

const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/braze-track';
const encode = (slice: string[]) => JSON.stringify(slice);
/** A message body decoded back to the list of items it carries. */
const decode = (body: string): unknown[] => {
  const value: unknown = JSON.parse(body);
  if (!Array.isArray(value)) throw new Error('message body is not a list');
  return value;
};
const numbered = (count: number, prefix = 'item'): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('packIntoMessages', () => {
  it('makes no message for no items', () => {
    expect(packIntoMessages([], 75, encode)).toEqual([]);
  });

  it('makes one message for one item', () => {
    expect(packIntoMessages(['only'], 75, encode)).toEqual(['["only"]']);
  });

  it('splits 76 items at 75 per message into 75 and 1, in order', () => {
    const items = numbered(76);

    const bodies = packIntoMessages(items, 75, encode);

    expect(bodies.map((body) => decode(body).length)).toEqual([75, 1]);
    expect(bodies.flatMap((body) => decode(body))).toEqual(items);
  });

  it('splits 10,000 items into 134 messages of at most 75 without losing or repeating one', () => {
    const items = numbered(10_000);

    const bodies = packIntoMessages(items, 75, encode);

    expect(bodies).toHaveLength(134);
    expect(bodies.every((body) => decode(body).length <= 75)).toBe(true);
    expect(bodies.flatMap((body) => decode(body))).toEqual(items);
  });

  it('splits further to keep each message under the byte cap', () => {
    const items = numbered(60).map((name) => name.padEnd(100, '.'));

    const bodies = packIntoMessages(items, 50, encode, 1_000);

    expect(bodies.length).toBeGreaterThan(2);
    expect(bodies.every((body) => byteLength(body) <= 1_000)).toBe(true);
    expect(bodies.flatMap((body) => decode(body))).toEqual(items);
  });

  it('counts bytes, not characters, against the cap', () => {
    const items = numbered(20).map((name) => `${name}-${'é'.repeat(40)}`);

    const bodies = packIntoMessages(items, 20, encode, 500);

    expect(bodies.every((body) => byteLength(body) <= 500)).toBe(true);
    expect(bodies.flatMap((body) => decode(body))).toEqual(items);
  });

  it('still emits a single item bigger than the cap rather than dropping it', () => {
    const huge = 'x'.repeat(2_000);

    const bodies = packIntoMessages(['small', huge, 'small-too'], 10, encode, 1_000);

    expect(bodies.flatMap((body) => decode(body))).toEqual(['small', huge, 'small-too']);
    expect(bodies).toContain(JSON.stringify([huge]));
  });
});

describe('QueueSender.sendAll', () => {
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const sqsMock = mockClient(sqs);

  beforeEach(() => sqsMock.reset());

  /** SQS answering every entry with success; message ids name the body they belong to. */
  const acceptAll = (input: SendMessageBatchCommandInput): SendMessageBatchResult => ({
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `mid:${entry.MessageBody}`, MD5OfMessageBody: '' })),
    Failed: [],
  });

  const sentBatches = () => sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
  const messages = (count: number): OutgoingMessage[] => numbered(count, 'body').map((body) => ({ body }));

  it('sends 25 messages in batches of 10, 10 and 5 and returns their ids in order', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const sender = new QueueSender(sqs);

    const ids = await sender.sendAll(queueUrl, messages(25));

    expect(sentBatches().map((batch) => batch.Entries?.length)).toEqual([10, 10, 5]);
    expect(sentBatches().every((batch) => batch.QueueUrl === queueUrl)).toBe(true);
    expect(ids).toEqual(numbered(25, 'body').map((body) => `mid:${body}`));
  });

  it('makes no request for no messages', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);

    const ids = await new QueueSender(sqs).sendAll(queueUrl, []);

    expect(ids).toEqual([]);
    expect(sentBatches()).toHaveLength(0);
  });

  it('starts a new batch before a batch request would pass the SQS size cap', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const big = (tag: string): OutgoingMessage => ({ body: tag.padEnd(100 * 1024, '.') });

    await new QueueSender(sqs).sendAll(queueUrl, [big('a'), big('b'), big('c')]);

    const batches = sentBatches();
    expect(batches.map((batch) => batch.Entries?.length)).toEqual([2, 1]);
    for (const batch of batches) {
      const bytes = (batch.Entries ?? []).reduce((sum, entry) => sum + byteLength(entry.MessageBody ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(MAX_SQS_BATCH_BYTES);
    }
  });

  it('sends a large body gzipped (what the consumer decodes) and a small one as it is', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const large = JSON.stringify({ items: Array.from({ length: 600 }, (_, i) => ({ external_id: `u-${i}` })) });

    await new QueueSender(sqs).sendAll(queueUrl, [{ body: large }, { body: '{"small":true}' }]);

    const [gzipped, plain] = sentBatches()[0]?.Entries ?? [];
    expect(gzipped?.MessageBody?.startsWith('H4sI')).toBe(true);
    expect(decodeMessageBody(gzipped?.MessageBody ?? '').json).toBe(large);
    expect(plain?.MessageBody).toBe('{"small":true}');
  });

  it('keeps each gzipped body with its own entry and in order across batches', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const large = (n: number) => JSON.stringify({ n, items: Array.from({ length: 600 }, (_, i) => ({ external_id: `u-${n}-${i}` })) });
    const bodies = Array.from({ length: 23 }, (_, n) => large(n));

    await new QueueSender(sqs).sendAll(
      queueUrl,
      bodies.map((body) => ({ body })),
    );

    const batches = sentBatches();
    expect(batches.map((batch) => batch.Entries?.length)).toEqual([10, 10, 3]);
    const sent = batches.flatMap((batch) => batch.Entries ?? []).map((entry) => decodeMessageBody(entry.MessageBody ?? '').json);
    expect(sent).toEqual(bodies);
  });

  it('sends no later batch once a batch is refused outright, and says so', async () => {
    sqsMock.on(SendMessageBatchCommand).rejectsOnce(new Error('throttled')).callsFake(acceptAll);
    const bodies = Array.from({ length: 12 }, (_, n) => JSON.stringify({ n, pad: 'x'.repeat(10_000) }));

    await expect(
      new QueueSender(sqs).sendAll(
        queueUrl,
        bodies.map((body) => ({ body })),
      ),
    ).rejects.toThrow('throttled');

    expect(sentBatches()).toHaveLength(1);
  });

  it('sends attributes as String message attributes', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);

    await new QueueSender(sqs).sendAll(queueUrl, [{ body: '{}', attributes: { flow: 'seen-callback' } }]);

    expect(sentBatches()[0]?.Entries?.[0]?.MessageAttributes).toEqual({ flow: { DataType: 'String', StringValue: 'seen-callback' } });
  });

  it('re-sends only the entries SQS reported as failed', async () => {
    let call = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      call++;
      if (call > 1) return acceptAll(input);
      const entries = input.Entries ?? [];
      return {
        Successful: entries.filter((e) => e.Id !== '3' && e.Id !== '7').map((e) => ({ Id: e.Id, MessageId: `mid:${e.MessageBody}`, MD5OfMessageBody: '' })),
        Failed: [
          { Id: '3', SenderFault: false, Code: 'InternalError' },
          { Id: '7', SenderFault: false, Code: 'InternalError' },
        ],
      };
    });

    const ids = await new QueueSender(sqs).sendAll(queueUrl, messages(10));

    const batches = sentBatches();
    expect(batches).toHaveLength(2);
    expect(batches[1]?.Entries?.map((e) => e.MessageBody)).toEqual(['body-3', 'body-7']);
    expect(ids).toEqual(numbered(10, 'body').map((body) => `mid:${body}`));
  });

  it('throws a RetryableDeliveryError when entries keep failing, after the configured attempts', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: [],
      Failed: (input.Entries ?? []).map((e) => ({ Id: e.Id, SenderFault: false, Code: 'ServiceUnavailable' })),
    }));

    await expect(new QueueSender(sqs, 3).sendAll(queueUrl, messages(4))).rejects.toThrow(RetryableDeliveryError);
    expect(sentBatches()).toHaveLength(3);
    expect(sentBatches().every((batch) => batch.Entries?.length === 4)).toBe(true);
  });

  it('refuses a message over the SQS limit before sending any batch', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const oversize: OutgoingMessage = { body: 'x'.repeat(MAX_SQS_BATCH_BYTES - 10), attributes: { flow: 'seen-callback' } };

    const error = await rejectionOf(PayloadTooLargeError, new QueueSender(sqs).sendAll(queueUrl, [...messages(11), oversize]));

    expect(error.message).toBe(`message 11 is ${MAX_SQS_BATCH_BYTES + 13} bytes once queued; at most ${MAX_SQS_BATCH_BYTES}`);
    expect(sentBatches()).toHaveLength(0);
  });

  it('sends a message of exactly the SQS limit, attributes included', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const attributes = { flow: 'seen-callback' };
    // 'flow' + 'String' + 'seen-callback': 23 bytes.
    const exact: OutgoingMessage = { body: 'x'.repeat(MAX_SQS_BATCH_BYTES - 23), attributes };

    await new QueueSender(sqs).sendAll(queueUrl, [exact]);

    expect(queuedBytes(exact)).toBe(MAX_SQS_BATCH_BYTES);
    expect(sentBatches()).toHaveLength(1);
  });

  it('lets an SQS request error through', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('AccessDenied'));

    await expect(new QueueSender(sqs).sendAll(queueUrl, messages(1))).rejects.toThrow('AccessDenied');
  });
});

describe('messageId', () => {
  it('gives the same 32-hex-character id for the same flow, request key and index', () => {
    const id = messageId('seen-callback', 'request-1', 3);

    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(messageId('seen-callback', 'request-1', 3)).toBe(id);
  });

  it('gives different ids for a different index, request key or flow', () => {
    const id = messageId('seen-callback', 'request-1', 3);

    expect(messageId('seen-callback', 'request-1', 4)).not.toBe(id);
    expect(messageId('seen-callback', 'request-2', 3)).not.toBe(id);
    expect(messageId('lytics-users', 'request-1', 3)).not.toBe(id);
  });

  it('does not let one field run into the next', () => {
    expect(messageId('a', 'b1', 2)).not.toBe(messageId('a', 'b', 12));
    expect(messageId('ab', 'c', 0)).not.toBe(messageId('a', 'bc', 0));
  });
});
