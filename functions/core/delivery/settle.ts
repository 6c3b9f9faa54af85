import type { Logger } from '@aws-lambda-powertools/logger';
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DedupeStore } from '../dedupe';
import { chunk } from '../pack';
import type { QueueSender } from '../queue';
import type { ParsedRecord, ReceivedMessage } from '../sqs-batch';
import { later, type Verdicts } from './verdicts';

/**
 * Makes messages that were tried and not taken visible again after their wait (the backoff goes
 * through the visibility: SQS counts the receive, and the DLQ takes the message only after
 * maxReceiveCount receives). Resolves with the receipt handles SQS did not change (they come back
 * after the queue's own visibility timeout instead).
 */
export async function waitThenRetry(
  sqs: SQSClient,
  queueUrl: string | undefined,
  waits: readonly { message: ReceivedMessage; seconds: number }[],
  logger: Logger,
): Promise<Set<string>> {
  const unchanged = new Set<string>();
  if (waits.length === 0) return unchanged;
  if (!queueUrl) {
    for (const wait of waits) unchanged.add(wait.message.receiptHandle);
    return unchanged;
  }
  for (const batch of chunk(waits, 10)) {
    try {
      const answer = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((wait, i) => ({
            Id: String(i),
            ReceiptHandle: wait.message.receiptHandle,
            VisibilityTimeout: Math.max(0, Math.round(wait.seconds)),
          })),
        }),
      );
      for (const failure of answer.Failed ?? []) unchanged.add(batch[Number(failure.Id)]!.message.receiptHandle);
    } catch (error) {
      logger.warn('could not set the wait of messages to retry', { count: batch.length, errorName: error instanceof Error ? error.name : 'unknown' });
      for (const wait of batch) unchanged.add(wait.message.receiptHandle);
    }
  }
  return unchanged;
}

/**
 * Puts a fresh copy of messages that were never tried (the deadline came, a pace or a fault of the
 * destination stopped the run first) back on the queue, delayed: they spend no receive toward the
 * DLQ. Resolves with whether SQS took every copy; if not, the originals are retried instead.
 */
export async function copyForLater(
  queue: QueueSender,
  queueUrl: string | undefined,
  copies: readonly { message: ReceivedMessage; seconds: number }[],
  logger: Logger,
): Promise<boolean> {
  if (copies.length === 0) return true;
  if (!queueUrl) return false;
  try {
    await queue.sendAll(
      queueUrl,
      copies.map(({ message, seconds }) => ({ body: message.body, attributes: message.attributes, delaySeconds: seconds })),
    );
    return true;
  } catch (error) {
    logger.warn('could not put untried messages back: they will be redelivered', {
      count: copies.length,
      errorName: error instanceof Error ? error.name : 'unknown',
    });
    return false;
  }
}

/** The keys a batch claimed, by message id, to settle once the verdicts are known. */
export type ClaimedKeys = Map<string, string>;

/**
 * Claims the dedupe key of every record that has one (SPEC section 3: a record delivered before is
 * not sent again). Records delivered before are done; a copy whose twin is in flight elsewhere (or
 * earlier in this batch) waits without being tried; the rest are returned to be sent.
 */
export async function claimRecords<B>(
  records: readonly ParsedRecord<B>[],
  keyOf: ((body: B) => string | undefined) | undefined,
  store: DedupeStore | undefined,
  options: { inFlightSeconds: number; retrySeconds: number; verdicts: Verdicts; logger: Logger },
): Promise<{ fresh: ParsedRecord<B>[]; claimed: ClaimedKeys }> {
  const claimed: ClaimedKeys = new Map();
  if (!store || !keyOf) return { fresh: [...records], claimed };
  const firstWithKey = new Map<string, ParsedRecord<B>>();
  const twins: ParsedRecord<B>[] = [];
  const keyless: ParsedRecord<B>[] = [];
  for (const record of records) {
    const key = keyOf(record.body);
    if (key === undefined) keyless.push(record);
    else if (firstWithKey.has(key)) twins.push(record);
    else firstWithKey.set(key, record);
  }
  const claims = await store.claim([...firstWithKey.keys()], options.inFlightSeconds);
  const fresh = [...keyless];
  let deliveredBefore = 0;
  for (const [key, record] of firstWithKey) {
    if (claims.claimed.has(key)) {
      claimed.set(record.messageId, key);
      fresh.push(record);
    } else if (claims.delivered.has(key)) {
      deliveredBefore++;
      options.verdicts.set(record.messageId, { kind: 'delivered' });
    } else twins.push(record);
  }
  // Looked at again once the twin is delivered (then done) or given up (then claimed and sent).
  options.verdicts.setAll(
    twins.map((record) => record.messageId),
    later(options.retrySeconds, false),
  );
  if (deliveredBefore > 0) options.logger.info('already delivered, skipped', { count: deliveredBefore });
  if (twins.length > 0) options.logger.info('a copy is being delivered elsewhere: looked at again later', { count: twins.length });
  return { fresh, claimed };
}

/** Confirms the keys of delivered messages and gives the others up (a parked record, once redriven, must be sent). */
export async function settleClaims(
  claimed: ClaimedKeys,
  verdicts: Verdicts,
  store: DedupeStore | undefined,
  ttlSeconds: number,
  logger: Logger,
): Promise<void> {
  if (!store || claimed.size === 0) return;
  const confirm: string[] = [];
  const release: string[] = [];
  for (const [messageId, key] of claimed) (verdicts.get(messageId)?.kind === 'delivered' ? confirm : release).push(key);
  try {
    if (confirm.length > 0) await store.confirm(confirm, ttlSeconds);
  } catch (error) {
    // Delivered but not remembered: the in-flight marker expires and a later copy may deliver it once more.
    logger.error('could not remember delivered records', { count: confirm.length, errorName: error instanceof Error ? error.name : 'unknown' });
  }
  try {
    if (release.length > 0) await store.release(release);
  } catch (error) {
    logger.warn('could not release claims: they expire on their own', { count: release.length, errorName: error instanceof Error ? error.name : 'unknown' });
  }
}
