import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { BrazeClient, type TrackItem } from '../core/braze';
import { type Deps, lazyHandler, requireSetting } from '../core/deps';
import { PermanentDeliveryError, RetryableDeliveryError } from '../core/errors';
import { MetricName, MetricUnit } from '../core/observability';
import { mapWithConcurrency, packFirstFit } from '../core/pack';
import { requireSecret } from '../core/secrets';
import { batchItemFailures, type ParsedRecord, park, parseRecords } from '../core/sqs-batch';
import { type TrackMessage, trackMessageSchema } from '../core/track-queue';

export const FLOW_ID = 'braze-track-delivery';
/** Time kept back from the Lambda timeout so failures are reported before the runtime is cut off. */
const SAFETY_MARGIN_MS = 3_000;

/**
 * Drains the shared `braze-track` queue: combines the objects of many messages into
 * /users/track calls of at most BRAZE_MAX_OBJECTS_PER_REQUEST (whole messages per call),
 * retries 429/5xx in-process within the invocation's time, reports the messages of calls that
 * still fail as batch item failures (SQS redelivers, then the DLQ takes them), and parks in the
 * DLQ at once the objects Braze refuses for good, with the reason.
 */
export function build(deps: Deps) {
  const { config, logger, metrics, queue } = deps;
  const braze = new BrazeClient({
    endpoint: requireSetting(config, 'BRAZE_REST_ENDPOINT'),
    apiKey: () => requireSecret(deps.secrets, 'braze', 'api_key'),
    http: deps.http,
    maxObjectsPerRequest: config.BRAZE_MAX_OBJECTS_PER_REQUEST,
  });

  const deliver = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deadline = deps.clock.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
    const { valid, invalid } = parseRecords(event.Records, trackMessageSchema);
    const failed: string[] = [];

    if (invalid.length > 0) {
      logger.error('malformed messages parked', { count: invalid.length, messageIds: invalid.map((r) => r.messageId) });
      try {
        await park(queue, config.DLQ_URL, invalid.map((r) => r.body), 'malformed_message');
        metrics.addMetric(MetricName.RecordsParked, MetricUnit.Count, invalid.length);
      } catch {
        failed.push(...invalid.map((r) => r.messageId));
      }
    }

    const calls = packFirstFit(valid, (record) => record.body.items.length, braze.maxObjectsPerRequest);
    await mapWithConcurrency(calls, config.BRAZE_DELIVERY_CONCURRENCY, async (records) => {
      const items: TrackItem[] = records.flatMap((record) => record.body.items);
      const ids = records.map((record) => record.messageId);
      try {
        const result = await braze.track(items, deadline);
        metrics.addMetric(MetricName.DownstreamCalls, MetricUnit.Count, 1);
        metrics.addMetric(MetricName.BrazeObjectsPerCall, MetricUnit.Count, items.length);
        metrics.addMetric(MetricName.RecordsDelivered, MetricUnit.Count, items.length - result.errors.length);
        if (result.errors.length > 0) await parkRefused(records, result.errors);
      } catch (error) {
        if (error instanceof PermanentDeliveryError) {
          logger.error('braze refused the call', { status: error.status, messageIds: ids, objects: items.length });
          try {
            await park(queue, config.DLQ_URL, records.map((r) => JSON.stringify(r.body)), `braze_${error.status ?? 'refused'}`);
            metrics.addMetric(MetricName.RecordsParked, MetricUnit.Count, items.length);
          } catch {
            failed.push(...ids);
          }
          return;
        }
        if (error instanceof RetryableDeliveryError && error.status === 429) metrics.addMetric(MetricName.DownstreamThrottled, MetricUnit.Count, 1);
        metrics.addMetric(MetricName.DeliveryFailures, MetricUnit.Count, records.length);
        logger.warn('braze call failed, messages will be redelivered', {
          status: error instanceof RetryableDeliveryError ? error.status : undefined,
          errorName: error instanceof Error ? error.name : 'unknown',
          messageIds: ids,
          receiveCounts: records.map((r) => r.receiveCount),
        });
        failed.push(...ids);
      }
    });

    /** Objects Braze refused inside a success answer: reported and parked, never retried forever. */
    async function parkRefused(records: ParsedRecord<TrackMessage>[], errors: { itemIndex: number; type: string }[]) {
      const offsets: { record: ParsedRecord<TrackMessage>; start: number }[] = [];
      let start = 0;
      for (const record of records) {
        offsets.push({ record, start });
        start += record.body.items.length;
      }
      const byType = new Map<string, Map<ParsedRecord<TrackMessage>, TrackMessage['items']>>();
      for (const error of errors) {
        const owner = offsets.findLast((entry) => entry.start <= error.itemIndex);
        if (!owner) continue;
        const item = owner.record.body.items[error.itemIndex - owner.start];
        if (!item) continue;
        const perRecord = byType.get(error.type) ?? new Map();
        byType.set(error.type, perRecord);
        perRecord.set(owner.record, [...(perRecord.get(owner.record) ?? []), item]);
      }
      for (const [type, perRecord] of byType) {
        logger.warn('braze refused objects', { type, objects: [...perRecord.values()].reduce((n, items) => n + items.length, 0) });
        const bodies = [...perRecord].map(([record, items]) => JSON.stringify({ ...record.body, items }));
        await park(queue, config.DLQ_URL, bodies, `braze_object_error:${type}`);
        metrics.addMetric(MetricName.RecordsParked, MetricUnit.Count, bodies.length);
      }
    }

    if (failed.length > 0) logger.warn('batch partially failed', { failed: failed.length, total: event.Records.length });
    return batchItemFailures(failed);
  };

  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(deliver);
}

export const handler = lazyHandler(FLOW_ID, build);
