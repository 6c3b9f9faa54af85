import { createHash } from 'node:crypto';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, type Message, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PayloadTooLargeError, RetryableDeliveryError } from './errors';
import { encodeMessageBody } from './message-body';

/** SQS caps a message, and a batch request, at 256 KiB here (kept at the classic limit on purpose). */
export const MAX_SQS_BATCH_BYTES = 256 * 1024;
const MAX_SQS_BATCH_ENTRIES = 10;

export interface OutgoingMessage {
  body: string;
  attributes?: Record<string, string>;
  /** Seconds before the message can be received (SQS DelaySeconds, at most 900). */
  delaySeconds?: number;
}

/** The message attribute carrying a message's deterministic id (set by every queued ingress). */
export const MESSAGE_ID_ATTRIBUTE = 'message_id';

/**
 * A deterministic message id: the first 32 hex characters of a SHA-256 of the flow, the request's
 * dedupe key and the message's index in the request, so a retried request yields the same ids.
 */
export function messageId(flowId: string, requestKey: string, index: number): string {
  return createHash('sha256').update(`${flowId}\u0000${requestKey}\u0000${index}`, 'utf8').digest('hex').slice(0, 32);
}

/** Bytes SQS counts for a message: its body plus each attribute's name, data type and value. */
export function queuedBytes(message: OutgoingMessage): number {
  let bytes = byteLength(message.body);
  for (const [name, value] of Object.entries(message.attributes ?? {})) bytes += byteLength(name) + byteLength('String') + byteLength(value);
  return bytes;
}

/** The first message SQS would refuse for its size (for good: retrying cannot help), if any. */
export function firstOversizeMessage(messages: readonly OutgoingMessage[]): { index: number; bytes: number } | undefined {
  for (const [index, message] of messages.entries()) {
    const bytes = queuedBytes(message);
    if (bytes > MAX_SQS_BATCH_BYTES) return { index, bytes };
  }
  return undefined;
}

/**
 * Sends messages with SendMessageBatch (10 per request, under the size cap), re-sending the
 * entries SQS reports as failed; throws if any is still refused, so the ingress answers 5xx
 * and the sender retries instead of us losing a record. A message over the SQS size limit is
 * refused (PayloadTooLargeError) before any batch is sent.
 */
export class QueueSender {
  constructor(
    private readonly sqs: SQSClient,
    private readonly attempts = 3,
  ) {}

  async sendAll(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<string[]> {
    const oversize = firstOversizeMessage(messages);
    if (oversize) {
      throw new PayloadTooLargeError(`message ${oversize.index} is ${oversize.bytes} bytes once queued; at most ${MAX_SQS_BATCH_BYTES}`);
    }
    const ids: string[] = [];
    // attributes and framing: 512 bytes on top of the body
    for (const batch of sqsBatches(messages, (message) => byteLength(message.body) + 512)) {
      ids.push(...(await this.sendBatch(queueUrl, batch)));
    }
    return ids;
  }

  private async sendBatch(queueUrl: string, batch: readonly OutgoingMessage[]): Promise<string[]> {
    const ids = new Array<string>(batch.length);
    // Large bodies travel gzipped (message-body.ts); sizes above were counted on the JSON, an upper bound.
    let pending = batch.map((message, index) => ({ message, index, body: encodeMessageBody(message.body) }));
    for (let attempt = 0; attempt < this.attempts && pending.length > 0; attempt++) {
      const result = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map(({ message, index, body }) => ({
            Id: String(index),
            MessageBody: body,
            ...(message.delaySeconds ? { DelaySeconds: Math.min(900, Math.max(0, Math.round(message.delaySeconds))) } : {}),
            MessageAttributes: message.attributes
              ? Object.fromEntries(Object.entries(message.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]))
              : undefined,
          })),
        }),
      );
      for (const ok of result.Successful ?? []) ids[Number(ok.Id)] = ok.MessageId ?? '';
      const failed = new Set((result.Failed ?? []).map((entry) => Number(entry.Id)));
      pending = pending.filter(({ index }) => failed.has(index));
    }
    if (pending.length > 0) throw new RetryableDeliveryError(`SQS refused ${pending.length} message(s)`);
    return ids;
  }
}

/** Deletes received messages, ten per DeleteMessageBatch request. */
export async function deleteMessages(sqs: SQSClient, queueUrl: string, messages: readonly Pick<Message, 'ReceiptHandle'>[]): Promise<void> {
  for (let i = 0; i < messages.length; i += MAX_SQS_BATCH_ENTRIES) {
    const batch = messages.slice(i, i + MAX_SQS_BATCH_ENTRIES);
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })) }));
  }
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Groups for SendMessageBatch: at most 10 entries and MAX_SQS_BATCH_BYTES each, in order, by the
 * caller's measure of an entry (a message alone always gets a group).
 */
export function sqsBatches<T>(items: readonly T[], bytesOf: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = bytesOf(item);
    if (current.length === MAX_SQS_BATCH_ENTRIES || (current.length > 0 && size + bytes > MAX_SQS_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Every message a queue holds: visible, in flight and delayed. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const answer = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a = answer.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
}

/**
 * Splits items into message bodies of at most `maxItems` items and about `maxBytes` bytes each,
 * in order. `encode` builds one body from a slice of items.
 */
export function packIntoMessages<T>(items: readonly T[], maxItems: number, encode: (slice: T[]) => string, maxBytes = 200 * 1024): string[] {
  const bodies: string[] = [];
  let start = 0;
  while (start < items.length) {
    let end = Math.min(items.length, start + maxItems);
    let body = encode(items.slice(start, end));
    while (byteLength(body) > maxBytes && end - start > 1) {
      end = start + Math.max(1, Math.floor((end - start) / 2));
      body = encode(items.slice(start, end));
    }
    bodies.push(body);
    start = end;
  }
  return bodies;
}
