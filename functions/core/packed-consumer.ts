import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { Deps } from './deps';
import { PermanentDeliveryError, RetryableDeliveryError } from './errors';
import { MetricName, MetricUnit } from './observability';
import { mapWithConcurrency, packFirstFit, packSplitting } from './pack';
import { batchItemFailures, type ParsedRecord, park, parseRecords } from './sqs-batch';

/** Time kept back from the Lambda timeout so failures are reported before the runtime is cut off. */
const SAFETY_MARGIN_MS = 3_000;

export interface Refusal<B> {
  /** What to park: a message body (possibly a subset of one message's records). */
  body: B;
  reason: string;
  /** Records it holds, for the metric. */
  records: number;
}

export interface PackedConsumerSpec<S extends z.ZodMiniType> {
  /** Destination name for logs and the `parked_reason`. */
  destination: string;
  /** Shape of every message on the queue; anything else is parked as malformed. */
  schema: S;
  /** Records in one message (e.g. /users/track objects). */
  weight: (body: z.infer<S>) => number;
  /** Most records one downstream call may carry. */
  capacity: number;
  /** Calls one invocation may have in flight. */
  concurrency: number;
  /**
   * Where records are idempotent (attribute updates), splits a message into its first `n` records
   * and the rest so calls can be filled to capacity; undefined keeps the message whole (events:
   * a retried call would send them twice). Without it every message stays whole.
   */
  split?: (body: z.infer<S>, n: number) => [z.infer<S>, z.infer<S>] | undefined;
  /**
   * Makes one downstream call for (parts of) messages. Resolves with the records the destination
   * refused inside a success answer; throws Retryable/PermanentDeliveryError otherwise.
   */
  send: (bodies: z.infer<S>[], deadline: number) => Promise<Refusal<z.infer<S>>[]>;
}

/**
 * An SQS consumer that combines the records of many messages into full downstream calls. Messages
 * stay whole unless the spec says their records are idempotent, so a failed call retries only its
 * own messages and never re-sends a delivered event. Retryable failures become batch item failures (SQS redelivers, the DLQ takes
 * them after maxReceiveCount); permanent refusals and malformed messages are parked in the DLQ
 * at once with the reason.
 */
export function createPackedConsumer<S extends z.ZodMiniType>(spec: PackedConsumerSpec<S>, deps: Deps) {
  const { config, logger, metrics, queue } = deps;
  type Body = z.infer<S>;

  const consume = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deadline = deps.clock.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
    const { valid, invalid } = parseRecords(event.Records, spec.schema);
    const failed: string[] = [];

    const parkOrRetry = async (bodies: string[], reason: string, records: number, ids: string[]) => {
      try {
        await park(queue, config.DLQ_URL, bodies, reason);
        metrics.addMetric(MetricName.RecordsParked, MetricUnit.Count, records);
      } catch {
        failed.push(...ids); // could not park: leave them to SQS, never drop them
      }
    };

    if (invalid.length > 0) {
      logger.error('malformed messages parked', { count: invalid.length, messageIds: invalid.map((r) => r.messageId) });
      await parkOrRetry(invalid.map((r) => r.body), 'malformed_message', invalid.length, invalid.map((r) => r.messageId));
    }

    const weigh = (record: ParsedRecord<Body>) => spec.weight(record.body);
    const split = spec.split;
    const calls = split
      ? packSplitting(valid, weigh, spec.capacity, (record, n) => {
          const parts = split(record.body, n);
          return parts && [{ ...record, body: parts[0] }, { ...record, body: parts[1] }];
        })
      : packFirstFit(valid, weigh, spec.capacity);
    // A split message is retried whole if any of its parts fails: only idempotent records are split.
    await mapWithConcurrency(calls, spec.concurrency, async (records) => {
      const ids = records.map((record) => record.messageId);
      const size = records.reduce((n, record) => n + spec.weight(record.body), 0);
      let refusals: Refusal<Body>[];
      try {
        refusals = await spec.send(records.map((record) => record.body), deadline);
      } catch (error) {
        if (error instanceof PermanentDeliveryError) {
          logger.error(`${spec.destination} refused the call`, { status: error.status, messageIds: ids, records: size });
          await parkOrRetry(records.map((r) => JSON.stringify(r.body)), `${spec.destination}_${error.status ?? 'refused'}`, size, ids);
          return;
        }
        const status = error instanceof RetryableDeliveryError ? error.status : undefined;
        if (status === 429) metrics.addMetric(MetricName.DownstreamThrottled, MetricUnit.Count, 1);
        metrics.addMetric(MetricName.DeliveryFailures, MetricUnit.Count, records.length);
        logger.warn(`${spec.destination} call failed, messages will be redelivered`, {
          status,
          errorName: error instanceof Error ? error.name : 'unknown',
          messageIds: ids,
          receiveCounts: records.map((r) => r.receiveCount),
        });
        failed.push(...ids);
        return;
      }
      const refused = refusals.reduce((n, refusal) => n + refusal.records, 0);
      metrics.addMetric(MetricName.DownstreamCalls, MetricUnit.Count, 1);
      metrics.addMetric(MetricName.RecordsPerCall, MetricUnit.Count, size);
      metrics.addMetric(MetricName.RecordsDelivered, MetricUnit.Count, size - refused);
      const byReason = Map.groupBy(refusals, (refusal) => refusal.reason);
      for (const [reason, group] of byReason) {
        const records = group.reduce((n, refusal) => n + refusal.records, 0);
        logger.warn(`${spec.destination} refused records`, { reason, records });
        await parkOrRetry(group.map((refusal) => JSON.stringify(refusal.body)), reason, records, []);
      }
    });

    if (failed.length > 0) logger.warn('batch partially failed', { failed: failed.length, total: event.Records.length });
    return batchItemFailures(failed);
  };

  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(consume);
}
