import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import type { QueueSender } from './queue';

export interface ParsedRecord<T> {
  messageId: string;
  body: T;
  receiveCount: number;
}

/**
 * Validates each SQS record; records that can never be processed (not JSON, wrong shape) are
 * returned apart so the consumer parks them in the DLQ at once instead of burning retries.
 */
export function parseRecords<S extends z.ZodMiniType>(records: readonly SQSRecord[], schema: S) {
  const valid: ParsedRecord<z.infer<S>>[] = [];
  const invalid: SQSRecord[] = [];
  for (const record of records) {
    let json: unknown;
    try {
      json = JSON.parse(record.body);
    } catch {
      invalid.push(record);
      continue;
    }
    const result = z.safeParse(schema, json);
    if (result.success) valid.push({ messageId: record.messageId, body: result.data, receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1) });
    else invalid.push(record);
  }
  return { valid, invalid };
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
