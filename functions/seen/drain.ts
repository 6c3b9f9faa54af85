import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { ChangeMessageVisibilityBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Deps, lazyHandler, requireSetting } from '../core/deps';
import { ConfigError, PermanentDeliveryError, RetryableDeliveryError } from '../core/errors';
import { joinUrl } from '../core/http';
import { MetricName, MetricUnit } from '../core/observability';
import { chunk, packFirstFit } from '../core/pack';
import { requireSecret } from '../core/secrets';
import { deleteMessages as deleteFromQueue } from '../core/queue';
import { park, parseMessageBody } from '../core/sqs-batch';
import { type SeenQueueMessage, seenQueueMessageSchema } from './schemas';
import { callsPerRun } from './transform';

export const FLOW_ID = 'seen-drain';
/** A run stops receiving this long before its timeout, leaving time for the calls. */
const RECEIVE_MARGIN_MS = 10_000;
/** Upper bound on messages one run holds. */
const MAX_MESSAGES_PER_RUN = 2_000;

interface Held {
  message: Message;
  body: SeenQueueMessage;
}

export interface DrainResult {
  calls: number;
  receivers: number;
  budget: number;
  /** Messages left in flight because their call failed: SQS redelivers them after the visibility timeout. */
  failedMessages: number;
}

/** The calls a set of held messages needs: per campaign, whole messages packed up to the per-call cap. */
export function planCalls(held: readonly Held[], maxReceiversPerCall: number): Held[][] {
  const byCampaign = new Map<string, Held[]>();
  for (const entry of held) {
    const list = byCampaign.get(entry.body.campaign) ?? [];
    list.push(entry);
    byCampaign.set(entry.body.campaign, list);
  }
  return [...byCampaign.values()].flatMap((entries) => packFirstFit(entries, (e) => e.body.receivers.length, maxReceiversPerCall));
}

/**
 * The SEEN delivery: a scheduled drain (EventBridge in AWS, a timer locally) that never makes more
 * than callsPerRun(SEEN_MAX_CALLS_PER_HOUR, window, interval) calls per run, so no rolling hour
 * exceeds the budget however many ingress instances fill the queue. It only receives what it can
 * send in the same run (at most one new call per received message), so no message is received
 * and put back, and receives never burn maxReceiveCount while waiting for budget.
 */
export function build(deps: Deps) {
  const { config, logger, metrics, sqs } = deps;
  const queueUrl = requireSetting(config, 'QUEUE_URL');
  const seenUrl = requireSetting(config, 'SEEN_API_URL');
  const budget = callsPerRun(config.SEEN_MAX_CALLS_PER_HOUR, config.SEEN_BUDGET_WINDOW_SECONDS, config.SEEN_DRAIN_INTERVAL_SECONDS);
  if (budget < 1) {
    throw new ConfigError('SEEN_MAX_CALLS_PER_HOUR is too small for SEEN_DRAIN_INTERVAL_SECONDS: a drain run would have no call to make');
  }
  const maxPerCall = config.SEEN_MAX_RECEIVERS_PER_CALL;

  const drain = async (_event: unknown, context: Context): Promise<DrainResult> => {
    // getRemainingTimeInMillis already shrinks as the run goes: fix the deadline once.
    const deadline = deps.clock.now() + context.getRemainingTimeInMillis();
    const remaining = () => deadline - deps.clock.now();
    // Held messages stay invisible for the whole run (plus a margin), never longer.
    const visibilitySeconds = Math.ceil(context.getRemainingTimeInMillis() / 1000) + 5;
    const held: Held[] = [];

    while (held.length < MAX_MESSAGES_PER_RUN && remaining() > RECEIVE_MARGIN_MS) {
      const room = budget - planCalls(held, maxPerCall).length;
      if (room <= 0) break;
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, room),
          VisibilityTimeout: visibilitySeconds,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) break;
      const malformed: Message[] = [];
      for (const message of messages) {
        const body = parseMessageBody(seenQueueMessageSchema, message.Body);
        if (body) held.push({ message, body });
        else malformed.push(message);
      }
      if (malformed.length > 0) {
        logger.error('malformed messages parked', { count: malformed.length });
        await park(deps.queue, config.DLQ_URL, malformed.map((m) => m.Body ?? ''), 'malformed_message');
        await deleteMessages(malformed);
      }
    }

    const token = held.length > 0 ? await requireSecret(deps.secrets, 'seen', 'api_token') : '';
    const result: DrainResult = { calls: 0, receivers: 0, budget, failedMessages: 0 };
    let throttled = false;
    for (const call of planCalls(held, maxPerCall)) {
      if (throttled) {
        result.failedMessages += call.length;
        await retryLater(call);
        continue;
      }
      const campaign = call[0]!.body.campaign;
      const receivers = call.flatMap((entry) => entry.body.receivers);
      result.calls++;
      metrics.addMetric(MetricName.DownstreamCalls, MetricUnit.Count, 1);
      try {
        await deps.http.send(
          {
            method: 'POST',
            url: joinUrl(seenUrl, `v1/campaigns/${encodeURIComponent(campaign)}/receivers/`),
            headers: { 'content-type': 'application/json', authorization: `Token ${token}` },
            body: JSON.stringify(receivers),
          },
          // Every attempt spends budget: no in-process retry; a failed call's messages come back later.
          { label: 'seen receivers', policy: { retries: 0 } },
        );
        await deleteMessages(call.map((entry) => entry.message));
        result.receivers += receivers.length;
        metrics.addMetric(MetricName.RecordsDelivered, MetricUnit.Count, receivers.length);
      } catch (error) {
        if (error instanceof PermanentDeliveryError) {
          logger.error('seen refused the call', { status: error.status, receivers: receivers.length });
          await park(deps.queue, config.DLQ_URL, call.map((entry) => JSON.stringify(entry.body)), `seen_${error.status ?? 'refused'}`);
          await deleteMessages(call.map((entry) => entry.message));
          metrics.addMetric(MetricName.RecordsParked, MetricUnit.Count, receivers.length);
          continue;
        }
        const status = error instanceof RetryableDeliveryError ? error.status : undefined;
        logger.warn('seen call failed, messages will be redelivered', { status, messages: call.length });
        metrics.addMetric(MetricName.DeliveryFailures, MetricUnit.Count, call.length);
        result.failedMessages += call.length;
        await retryLater(call);
        if (status === 429) {
          metrics.addMetric(MetricName.DownstreamThrottled, MetricUnit.Count, 1);
          throttled = true; // SEEN says the budget is spent: keep the rest for a later run
        }
      }
    }
    metrics.addMetric(MetricName.DrainRuns, MetricUnit.Count, 1);
    logger.info('drain run', { ...result, held: held.length });
    return result;
  };

  const deleteMessages = (messages: readonly Message[]) => deleteFromQueue(sqs, queueUrl, messages);

  /**
   * Messages whose call failed come back after a backoff that doubles with each receive (one drain
   * interval first, 15 minutes at most) rather than after the whole run's visibility timeout;
   * after maxReceiveCount receives SQS moves them to the DLQ.
   */
  async function retryLater(call: readonly Held[]) {
    const entries = call.map((entry, i) => {
      const receives = Number(entry.message.Attributes?.ApproximateReceiveCount ?? 1);
      const delay = Math.min(900, Math.ceil(config.SEEN_DRAIN_INTERVAL_SECONDS * 2 ** (receives - 1)));
      return { Id: String(i), ReceiptHandle: entry.message.ReceiptHandle, VisibilityTimeout: delay };
    });
    for (const batch of chunk(entries, 10)) {
      await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: batch }));
    }
  }

  return middy<unknown, DrainResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(drain);
}

export const handler = lazyHandler(FLOW_ID, build);
