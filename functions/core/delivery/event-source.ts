import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { EventSourceDrive } from '../catalogue-types';
import { batchItemFailures, firstCopies, type ParsedRecord, parseRecords } from '../sqs-batch';
import { type ConsumerCore, deliverRecords } from './core';
import { copyForLater, waitThenRetry } from './settle';
import { Verdicts } from './verdicts';

/** Time kept back from the Lambda timeout so failures are reported before the runtime is cut off. */
export const SAFETY_MARGIN_MS = 3_000;

/**
 * Lambda's SQS event source drives the consumer: a batch in, batch item failures out. Malformed
 * messages are parked at once; a retried request's copies are done with; the rest are delivered
 * within the limits. Then each message is settled with SQS: done (delivered or parked) is left for
 * Lambda to delete; a message tried and not taken waits its backoff (its visibility is changed,
 * then it is reported as failed); a message never tried is put back as a fresh copy (so it spends
 * no receive) and reported done.
 */
export function eventSourceDrive<S extends z.ZodMiniType>(core: ConsumerCore<z.infer<S>>, schema: S, drive: EventSourceDrive) {
  const { deps } = core;
  const { logger } = deps;
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deadline = deps.clock.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
    const { valid, invalid } = parseRecords(event.Records, schema);
    const failed: string[] = [];
    if (invalid.length > 0) {
      logger.error('malformed messages parked', { count: invalid.length, messageIds: invalid.map((r) => r.messageId) });
      if (
        !(await core.deliverer.park(
          invalid.map((r) => r.body),
          'malformed_message',
          invalid.length,
        ))
      )
        failed.push(...invalid.map((r) => r.messageId));
    }
    const verdicts = new Verdicts();
    const { first, copies } = firstCopies(valid);
    if (copies.length > 0) logger.info('duplicate messages skipped', { count: copies.length });
    // A message split over calls is retried whole if any part is not taken: only idempotent records are split.
    await deliverRecords(core, first, { deadline, concurrency: core.queue.limits.concurrency, call: { http: deps.http }, verdicts });
    failed.push(...(await settle(core, first, verdicts)));
    if (failed.length > 0) logger.warn('batch partially failed', { failed: new Set(failed).size, total: event.Records.length, batchSize: drive.batchSize });
    return batchItemFailures(failed);
  };
}

/** Applies the verdicts; resolves with the message ids to report as batch item failures. */
async function settle<B>(core: ConsumerCore<B>, records: readonly ParsedRecord<B>[], verdicts: Verdicts): Promise<string[]> {
  const { deps } = core;
  const byId = new Map(records.map((record) => [record.messageId, record] as const));
  const waits: { id: string; message: ParsedRecord<B>['message']; seconds: number }[] = [];
  const untried: typeof waits = [];
  for (const [id, verdict] of verdicts.entries()) {
    const record = byId.get(id);
    if (!record || verdict.kind !== 'later') continue;
    (verdict.attempted ? waits : untried).push({ id, message: record.message, seconds: verdict.seconds });
  }
  const failed = waits.map((wait) => wait.id);
  await waitThenRetry(deps.sqs, deps.config.QUEUE_URL, waits, deps.logger);
  if (!(await copyForLater(deps.queue, deps.config.QUEUE_URL, untried, deps.logger))) failed.push(...untried.map((copy) => copy.id));
  // Every message has a verdict; one that somehow has none is retried rather than dropped.
  for (const record of records) if (!verdicts.get(record.messageId)) failed.push(record.messageId);
  return failed;
}
