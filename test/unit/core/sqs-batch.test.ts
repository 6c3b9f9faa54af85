import { SendMessageBatchCommand, type SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeMessageBody } from '../../../functions/core/message-body';
import { QueueSender } from '../../../functions/core/queue';
import { batchItemFailures, park, parseRecords } from '../../../functions/core/sqs-batch';
import { trackMessageSchema } from '../../../functions/core/track-queue';
import { sqsRecord } from '../helpers';

const validMessage = { v: 1, flow: 'seen-callback', requestId: 'req-1', items: [{ kind: 'attributes', object: { braze_id: '101' } }] };
const validBody = JSON.stringify(validMessage);

describe('parseRecords', () => {
  it('keeps valid records with their message id, parsed body and receive count', () => {
    const { valid, invalid } = parseRecords([sqsRecord('m1', validBody, 3)], trackMessageSchema);

    expect(invalid).toEqual([]);
    expect(valid).toEqual([
      {
        messageId: 'm1',
        receiveCount: 3,
        body: validMessage,
        message: { receiptHandle: 'receipt-m1', body: validBody, bytes: Buffer.byteLength(validBody), attributes: {} },
      },
    ]);
  });

  it('reads a body that travelled gzipped as its JSON, its bytes those of the JSON, and keeps the body as it came', () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ kind: 'attributes', object: { external_id: `u-${i}` } }));
    const json = JSON.stringify({ ...validMessage, items });
    const sent = encodeMessageBody(json);

    const { valid, invalid } = parseRecords([sqsRecord('big', sent), sqsRecord('broken', 'H4sIbroken')], trackMessageSchema);

    expect(sent).not.toBe(json);
    expect(valid[0]?.body.items).toEqual(items);
    expect(valid[0]?.message).toMatchObject({ body: sent, bytes: Buffer.byteLength(json) });
    expect(invalid.map((record) => record.messageId)).toEqual(['broken']);
  });

  it('sets apart records that are not JSON or have the wrong shape, keeping the good ones in order', () => {
    const records = [
      sqsRecord('good-1', validBody),
      sqsRecord('not-json', '{"v":1,'),
      sqsRecord('wrong-shape', JSON.stringify({ v: 1, flow: 'seen-callback', requestId: 'r', items: [] })),
      sqsRecord('wrong-version', validBody.replace('"v":1', '"v":2')),
      sqsRecord('good-2', validBody),
    ];

    const { valid, invalid } = parseRecords(records, trackMessageSchema);

    expect(valid.map((record) => record.messageId)).toEqual(['good-1', 'good-2']);
    expect(invalid.map((record) => record.messageId)).toEqual(['not-json', 'wrong-shape', 'wrong-version']);
    expect(invalid[0]).toBe(records[1]);
  });

  it('returns two empty lists for no records', () => {
    expect(parseRecords([], trackMessageSchema)).toEqual({ valid: [], invalid: [] });
  });
});

describe('batchItemFailures', () => {
  it('reports each failed message once, in first-seen order', () => {
    expect(batchItemFailures(['m2', 'm1', 'm2', 'm3', 'm1'])).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm1' }, { itemIdentifier: 'm3' }],
    });
  });

  it('reports an empty list when nothing failed, so the whole batch is deleted', () => {
    expect(batchItemFailures([])).toEqual({ batchItemFailures: [] });
  });
});

describe('park', () => {
  const dlqUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/braze-track-dlq';
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const sqsMock = mockClient(sqs);
  const queue = new QueueSender(sqs);

  beforeEach(() => {
    sqsMock.reset();
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `mid-${entry.Id}`, MD5OfMessageBody: '' })),
      Failed: [],
    }));
  });

  it('puts the bodies in the dead-letter queue with the reason as an attribute', async () => {
    await park(queue, dlqUrl, ['{"a":1}', '{"b":2}'], 'malformed_message');

    const sent = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.QueueUrl).toBe(dlqUrl);
    expect(sent[0]?.Entries?.map((entry) => entry.MessageBody)).toEqual(['{"a":1}', '{"b":2}']);
    expect(sent[0]?.Entries?.[0]?.MessageAttributes).toEqual({ parked_reason: { DataType: 'String', StringValue: 'malformed_message' } });
  });

  it('does nothing for no bodies, even without a dead-letter queue', async () => {
    await park(queue, undefined, [], 'malformed_message');

    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('refuses to drop records silently when no dead-letter queue is configured', async () => {
    await expect(park(queue, undefined, ['{}'], 'malformed_message')).rejects.toThrow('DLQ_URL');
  });
});
