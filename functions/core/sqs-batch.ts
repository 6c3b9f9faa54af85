import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { decodeMessageBody } from './message-body';
import { MESSAGE_ID_ATTRIBUTE, type QueueSender } from './queue';

export interface ParsedRecord<T> {
  messageId: string;
  body: T;
  receiveCount: number;
  /** The deterministic id the ingress gave the message (the same for a retried request's copy). */
  dedupeId?: string;
  /** The message as received: what a wait (ChangeMessageVisibility) or a copy (SendMessage) needs. */
  message: ReceivedMessage;
}

/** What the consumer keeps of a received SQS message, whichever drive received it. */
export interface ReceivedMessage {
  receiptHandle: string;
  /** As SQS carried it (maybe gzipped: message-body.ts): what a copy or a wait sends again. */
  body: string;
  /** Bytes of its JSON, decoded: what a call's byte cap counts. */
  bytes: number;
  /** Its string message attributes (the ingress's `message_id` among them). */
  attributes: Record<string, string>;
}

/**
 * Validates each SQS record; records that can never be processed (not JSON, wrong shape) are
 * returned apart so the consumer parks them in the DLQ at once instead of burning retries.
 */
export function parseRecords<S extends z.ZodMiniType>(records: readonly SQSRecord[], schema: S) {
  const valid: ParsedRecord<z.infer<S>>[] = [];
  const invalid: SQSRecord[] = [];
  for (const record of records) {
    const parsed = parseMessageBody(schema, record.body);
    if (parsed === undefined) invalid.push(record);
    else {
      const attributes = stringAttributes(Object.entries(record.messageAttributes ?? {}).map(([name, value]) => [name, value.stringValue]));
      valid.push(
        parsedRecord(record.messageId, parsed.value, record.attributes?.ApproximateReceiveCount, {
          receiptHandle: record.receiptHandle,
          body: record.body,
          bytes: parsed.bytes,
          attributes,
        }),
      );
    }
  }
  return { valid, invalid };
}

/** The string-valued message attributes among (name, value) pairs. */
export function stringAttributes(pairs: readonly (readonly [string, string | undefined])[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of pairs) if (value !== undefined) attributes[name] = value;
  return attributes;
}

/** A received message as the consumer holds it, whichever drive received it. */
export function parsedRecord<T>(messageId: string, body: T, receiveCount: string | undefined, message: ReceivedMessage): ParsedRecord<T> {
  return { messageId, body, receiveCount: Number(receiveCount ?? 1), dedupeId: message.attributes[MESSAGE_ID_ATTRIBUTE], message };
}

/**
 * A message body (plain or gzipped JSON: message-body.ts) as the schema's type, with its JSON's
 * size in bytes, or undefined when it is not JSON or not of that shape.
 */
export function parseMessageBody<S extends z.ZodMiniType>(schema: S, body: string | undefined): { value: z.infer<S>; bytes: number } | undefined {
  let json: unknown;
  let bytes: number;
  try {
    const decoded = decodeMessageBody(body ?? '');
    json = JSON.parse(decoded.json);
    bytes = decoded.bytes;
  } catch {
    return undefined;
  }
  const result = z.safeParse(schema, json);
  return result.success ? { value: result.data, bytes } : undefined;
}

/** Records whose processing failed: SQS makes them visible again, and the DLQ takes them after maxReceiveCount. */
export function batchItemFailures(messageIds: Iterable<string>): { batchItemFailures: SQSBatchItemFailure[] } {
  return { batchItemFailures: [...new Set(messageIds)].map((itemIdentifier) => ({ itemIdentifier })) };
}

/**
 * Puts bodies straight into the dead-letter queue with the reason, for what retrying cannot fix
 * (Braze refused the object, the message is malformed). They can be redriven once fixed.
 */
export async function park(queue: QueueSender, dlqUrl: string | undefined, bodies: readonly string[], reason: string): Promise<void> {
  if (bodies.length === 0) return;
  if (!dlqUrl) throw new Error('DLQ_URL is not set: cannot park refused records');
  await queue.sendAll(
    dlqUrl,
    bodies.map((body) => ({ body, attributes: { parked_reason: reason } })),
  );
}

/**
 * Splits records into the first copy of each deterministic id and the later copies (a retried
 * request's duplicates, received together): the copies are done with, never delivered twice.
 */
export function firstCopies<T>(records: readonly ParsedRecord<T>[]): { first: ParsedRecord<T>[]; copies: ParsedRecord<T>[] } {
  const seen = new Set<string>();
  const first: ParsedRecord<T>[] = [];
  const copies: ParsedRecord<T>[] = [];
  for (const record of records) {
    if (record.dedupeId === undefined || !seen.has(record.dedupeId)) {
      if (record.dedupeId !== undefined) seen.add(record.dedupeId);
      first.push(record);
    } else copies.push(record);
  }
  return { first, copies };
}
