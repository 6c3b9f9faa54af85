import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { ChangeMessageVisibilityBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type * as z from 'zod/mini';
import { callsPerRun } from './budget';
import type { DeliveryLimits, DeliveryQueue, ScheduleDrive } from './catalogue-types';
import type { Deps } from './deps';
import { ConfigError, PermanentDeliveryError, RetryableDeliveryError } from './errors';
import { MetricName, MetricUnit } from './observability';
import { chunk, mapWithConcurrency, packFirstFit, packSplitting } from './pack';
import { byteLength, deleteMessages } from './queue';
import type { DedupeStore } from './dedupe';
import { MESSAGE_ID_ATTRIBUTE } from './queue';
import { batchItemFailures, firstCopies, type ParsedRecord, park, parseMessageBody, parseRecords } from './sqs-batch';
import { createPacer } from './rate-limit';

/** Time kept back from the Lambda timeout so failures are reported before the runtime is cut off. */
export const SAFETY_MARGIN_MS = 3_000;
/** A scheduled run stops receiving this long before its deadline, leaving time for its calls. */
export const RECEIVE_MARGIN_MS = 10_000;
/** Upper bound on the messages one scheduled run holds. */
const MAX_MESSAGES_PER_RUN = 2_000;

export interface Refusal<B> {
  /** What to park: a message body (possibly a subset of one message's records). */
  body: B;
  reason: string;
  /** Records it holds, for the metric. */
  records: number;
  /** Index, in the `bodies` handed to `send`, of the body these records came from. */
  bodyIndex: number;
}

export interface CallOptions {
  /** Absolute time (clock ms) after which no attempt may start. */
  deadline: number;
  /** Retries the call may make in-process; 0 under a scheduled budget (every attempt spends it). */
  retries?: number;
}

export interface DeliverySpec<S extends z.ZodMiniType> {
  /** The queue's catalogue entry: its limits and drive are what this consumer keeps to. */
  queue: DeliveryQueue;
  /** The partner's parsed settings: where `itemsPerCallSetting` and a schedule's settings are read. */
  settings: Readonly<Record<string, unknown>>;
  /** Shape of every message on the queue; anything else is parked as malformed. */
  schema: S;
  /** Records in one message (e.g. /users/track objects, SEEN receivers). */
  weight: (body: z.infer<S>) => number;
  /** The message's group, where `limits.grouped`: messages of different groups never share a call. */
  group?: (body: z.infer<S>) => string;
  /**
   * Where records are idempotent (attribute updates), splits a message into its first `n` records
   * and the rest so calls can be filled to capacity; undefined keeps the message whole (events:
   * a retried call would send them twice). Without it every message stays whole.
   */
  split?: (body: z.infer<S>, n: number) => [z.infer<S>, z.infer<S>] | undefined;
  /**
   * Makes one downstream call for (parts of) messages. Resolves with the records the destination
   * refused inside a success answer, each naming the index of its body in `bodies`; throws
   * Retryable/PermanentDeliveryError otherwise.
   */
  send: (bodies: z.infer<S>[], call: CallOptions) => Promise<Refusal<z.infer<S>>[]>;
  /** Where the queue dedupes (catalogue `dedupe`): a message's dedupe key, undefined for none. */
  dedupeKey?: (body: z.infer<S>) => string | undefined;
  /** Required with `dedupeKey`: what was delivered (DynamoDB in AWS; locally the same code against dynalite). */
  dedupe?: DedupeStore;
  /**
   * A call the destination refuses as a whole (4xx) is tried again one message at a time, so only
   * the messages it refuses on their own are parked (ODP refuses a batch for one bad event).
   */
  isolateOnRefusal?: boolean;
}

/** What became of one call's messages. */
interface CallOutcome {
  /** Messages done with: delivered, or refused for good and parked. */
  done: string[];
  /** Messages to deliver again later (SQS redelivers; the DLQ takes them after maxReceiveCount). */
  retry: string[];
  /** The destination answered 429. */
  throttled: boolean;
}

/** The most records per call: the catalogue's, lowered (never raised) by its setting where set. */
export function itemsPerCall(limits: DeliveryLimits, settings: Readonly<Record<string, unknown>>): number {
  const configured = limits.itemsPerCallSetting ? Number(settings[limits.itemsPerCallSetting]) : Number.NaN;
  return Number.isInteger(configured) && configured > 0 ? Math.min(limits.itemsPerCall, configured) : limits.itemsPerCall;
}

/**
 * Plans the calls for a set of records within the limits: per group (where grouped), records packed
 * up to `capacity` (splitting only what `split` allows), then each call cut to the byte budget
 * keeping records whole. A record heavier than the capacity or the budget gets a call of its own.
 */
export function planCalls<T>(
  records: readonly T[],
  options: { capacity: number; weight: (record: T) => number; bytes: (record: T) => number; bytesPerCall?: number; group?: (record: T) => string; split?: (record: T, n: number) => [T, T] | undefined },
): T[][] {
  const groups = options.group ? [...Map.groupBy(records, options.group).values()] : [records];
  return groups.flatMap((group) => {
    const byItems = options.split
      ? packSplitting(group, options.weight, options.capacity, options.split)
      : packFirstFit(group, options.weight, options.capacity);
    const budget = options.bytesPerCall;
    if (budget === undefined) return byItems;
    return byItems.flatMap((call) => packFirstFit(call, (record) => Math.min(options.bytes(record), budget), budget));
  });
}

/**
 * The one delivery consumer. Its queue's catalogue entry says how it is driven and what it keeps
 * to: `event-source` (Lambda's SQS event source: a batch in, batch item failures out) or `schedule`
 * (a run receives from the queue itself, long-polling, and makes at most its share of a call
 * budget per window); in both, records of many messages are combined into calls within the
 * limits (records, group, bytes, calls per second, concurrency), nothing is started after the
 * deadline, retryable failures go back to SQS (the DLQ after maxReceiveCount), and permanent
 * refusals and malformed messages are parked in the DLQ with their reason, or left to SQS when the
 * DLQ cannot take them: never dropped.
 */
/** A scheduled run's event (EventBridge's, or the local timer's); its content is not read. */
export type DrainEvent = Readonly<Record<string, unknown>>;
/** What either drive's handler is: an SQS batch in and batch item failures out, or a run and its figures. */
export type DeliveryHandler = (event: SQSEvent | DrainEvent, context: Context) => Promise<SQSBatchResponse | DrainResult>;

export function createDeliveryConsumer<S extends z.ZodMiniType>(spec: DeliverySpec<S>, deps: Deps): DeliveryHandler {
  const { config, logger, metrics, queue } = deps;
  type Body = z.infer<S>;
  const { limits, drive } = spec.queue;
  const destination = spec.queue.owner;
  const capacity = itemsPerCall(limits, spec.settings);
  if (limits.grouped && !spec.group) throw new Error(`${spec.queue.id}: grouped limits need the spec's group()`);
  const dedupeTtl = spec.queue.dedupe?.ttlSeconds;
  if (dedupeTtl !== undefined && (!spec.dedupeKey || !spec.dedupe)) throw new Error(`${spec.queue.id}: a deduping queue needs the spec's dedupeKey() and dedupe store`);
  const keyOf = (record: ParsedRecord<Body>) => (dedupeTtl !== undefined ? spec.dedupeKey?.(record.body) : undefined);

  /** Records already delivered (a sender's retry that reached us in another batch): done, not sent again. */
  const alreadyDelivered = async (records: readonly ParsedRecord<Body>[]): Promise<{ fresh: ParsedRecord<Body>[]; delivered: ParsedRecord<Body>[] }> => {
    const keys = records.flatMap((record) => keyOf(record) ?? []);
    if (keys.length === 0 || !spec.dedupe) return { fresh: [...records], delivered: [] };
    const seen = await spec.dedupe.seen(keys);
    const delivered = records.filter((record) => seen.has(keyOf(record) ?? ''));
    if (delivered.length > 0) logger.info('already delivered, skipped', { count: delivered.length });
    return { fresh: records.filter((record) => !delivered.includes(record)), delivered };
  };

  /** Starts of calls spaced to keep to callsPerSecond, shared across this consumer's concurrent invocations. */
  const perInvocationRate = limits.callsPerSecond && (drive.kind === 'event-source' ? limits.callsPerSecond / drive.maxConcurrency : limits.callsPerSecond);
  const paced = createPacer(perInvocationRate, deps.clock);

  const parkOrFail = async (bodies: string[], reason: string, records: number, ids: string[]): Promise<boolean> => {
    try {
      await park(queue, config.DLQ_URL, bodies, reason);
      metrics.addMetric(MetricName.RecordsParked, MetricUnit.Count, records);
      return true;
    } catch (error) {
      // Could not park: leave their messages to SQS, never drop them.
      logger.error('could not park refused records', { count: records, reason, messages: ids.length, errorName: error instanceof Error ? error.name : 'unknown' });
      return false;
    }
  };

  const plan = (records: readonly ParsedRecord<Body>[]) =>
    planCalls(records, {
      capacity,
      weight: (record) => spec.weight(record.body),
      bytes: (record) => byteLength(JSON.stringify(record.body)),
      bytesPerCall: limits.bytesPerCall,
      group: spec.group ? (record) => spec.group!(record.body) : undefined,
      split: spec.split
        ? (record, n) => {
            const parts = spec.split!(record.body, n);
            return parts && [{ ...record, body: parts[0] }, { ...record, body: parts[1] }];
          }
        : undefined,
    });

  /** One downstream call and what becomes of its messages. */
  const deliverCall = async (records: ParsedRecord<Body>[], call: CallOptions): Promise<CallOutcome> => {
    // (recursive: a refused combined call may be tried again message by message)
    const ids = [...new Set(records.map((record) => record.messageId))];
    const size = records.reduce((n, record) => n + spec.weight(record.body), 0);
    let refusals: Refusal<Body>[];
    try {
      await paced();
      if (deps.clock.now() >= call.deadline) return { done: [], retry: ids, throttled: false };
      refusals = await spec.send(records.map((record) => record.body), call);
    } catch (error) {
      if (error instanceof PermanentDeliveryError && spec.isolateOnRefusal && ids.length > 1) {
        logger.warn(`${destination} refused a combined call: trying its messages one by one`, { status: error.status, messages: ids.length });
        const outcomes: CallOutcome[] = [];
        for (const id of ids) outcomes.push(await deliverCall(records.filter((record) => record.messageId === id), call));
        return {
          done: outcomes.flatMap((o) => o.done),
          retry: outcomes.flatMap((o) => o.retry),
          throttled: outcomes.some((o) => o.throttled),
        };
      }
      if (error instanceof PermanentDeliveryError) {
        logger.error(`${destination} refused the call`, { status: error.status, messageIds: ids, records: size });
        const parked = await parkOrFail(records.map((r) => JSON.stringify(r.body)), `${destination}_${error.status ?? 'refused'}`, size, ids);
        return parked ? { done: ids, retry: [], throttled: false } : { done: [], retry: ids, throttled: false };
      }
      const status = error instanceof RetryableDeliveryError ? error.status : undefined;
      if (status === 429) metrics.addMetric(MetricName.DownstreamThrottled, MetricUnit.Count, 1);
      metrics.addMetric(MetricName.DeliveryFailures, MetricUnit.Count, ids.length);
      logger.warn(`${destination} call failed, messages will be redelivered`, {
        status,
        errorName: error instanceof Error ? error.name : 'unknown',
        messageIds: ids,
        receiveCounts: records.map((r) => r.receiveCount),
      });
      return { done: [], retry: ids, throttled: status === 429 };
    }
    const refused = refusals.reduce((n, refusal) => n + refusal.records, 0);
    // Only what the destination took is remembered: a refused record, once fixed and redriven from
    // the DLQ, must not be skipped as already delivered.
    const refusedIndexes = new Set(refusals.map((refusal) => refusal.bodyIndex));
    const keys = records.flatMap((record, index) => (refusedIndexes.has(index) ? [] : (keyOf(record) ?? [])));
    if (keys.length > 0 && dedupeTtl !== undefined) {
      try {
        await spec.dedupe!.remember(keys, dedupeTtl);
      } catch (error) {
        // Delivered but not remembered: a later retry of the sender may deliver it once more.
        logger.error('could not remember delivered records', { count: keys.length, errorName: error instanceof Error ? error.name : 'unknown' });
      }
    }
    metrics.addMetric(MetricName.DownstreamCalls, MetricUnit.Count, 1);
    metrics.addMetric(MetricName.RecordsPerCall, MetricUnit.Count, size);
    metrics.addMetric(MetricName.RecordsDelivered, MetricUnit.Count, size - refused);
    const retry: string[] = [];
    const traced = refusals.map((refusal) => {
      const record = records[refusal.bodyIndex];
      // A refusal naming no body of this call cannot be traced: retry the whole call rather than drop it.
      return { ...refusal, messageIds: record ? [record.messageId] : ids };
    });
    for (const [reason, group] of Map.groupBy(traced, (refusal) => refusal.reason)) {
      const count = group.reduce((n, refusal) => n + refusal.records, 0);
      logger.warn(`${destination} refused records`, { reason, records: count });
      const groupIds = group.flatMap((refusal) => refusal.messageIds);
      if (!(await parkOrFail(group.map((refusal) => JSON.stringify(refusal.body)), reason, count, groupIds))) retry.push(...groupIds);
    }
    return { done: ids.filter((id) => !retry.includes(id)), retry, throttled: false };
  };

  const middlewares = <E, R>(handler: (event: E, context: Context) => Promise<R>) =>
    middy<E, R>().use(injectLambdaContext(logger, { resetKeys: true })).use(logMetrics(metrics)).handler(handler);

  if (drive.kind === 'event-source') {
    const consume = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
      const deadline = deps.clock.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
      const { valid, invalid } = parseRecords(event.Records, spec.schema);
      const failed: string[] = [];
      if (invalid.length > 0) {
        logger.error('malformed messages parked', { count: invalid.length, messageIds: invalid.map((r) => r.messageId) });
        const ids = invalid.map((r) => r.messageId);
        if (!(await parkOrFail(invalid.map((r) => r.body), 'malformed_message', invalid.length, ids))) failed.push(...ids);
      }
      const { first, copies } = firstCopies(valid);
      if (copies.length > 0) logger.info('duplicate messages skipped', { count: copies.length });
      const { fresh } = await alreadyDelivered(first);
      const late = { calls: 0, messages: 0 };
      // A split message is retried whole if any of its parts fails: only idempotent records are split.
      await mapWithConcurrency(plan(fresh), limits.concurrency, async (records) => {
        if (deps.clock.now() >= deadline) {
          // Too late to start a call that could still be reported: SQS redelivers these later.
          late.calls++;
          late.messages += records.length;
          failed.push(...records.map((record) => record.messageId));
          return;
        }
        failed.push(...(await deliverCall(records, { deadline })).retry);
      });
      if (late.calls > 0) logger.warn('deadline reached: calls not started, messages will be redelivered', late);
      if (failed.length > 0) logger.warn('batch partially failed', { failed: new Set(failed).size, total: event.Records.length });
      return batchItemFailures(failed);
    };
    return middlewares(consume) as DeliveryHandler;
  }

  return middlewares(scheduledRun(spec, deps, drive, { plan, deliverCall, parkOrFail, alreadyDelivered })) as DeliveryHandler;
}

export interface DrainResult {
  calls: number;
  records: number;
  budget: number;
  /** Messages left in flight because their call failed: SQS redelivers them after a backoff. */
  failedMessages: number;
}

/**
 * A scheduled run: never more than callsPerRun(calls, window, interval) calls, so no window
 * exceeds the budget however many ingress instances fill the queue. It receives only what it can
 * send in the same run (at most one new call per received message), long-polling so that an empty
 * receive means an empty queue, so no message is received and put back, and receives never burn
 * maxReceiveCount while waiting for budget.
 */
function scheduledRun<S extends z.ZodMiniType>(
  spec: DeliverySpec<S>,
  deps: Deps,
  drive: ScheduleDrive,
  engine: {
    plan: (records: readonly ParsedRecord<z.infer<S>>[]) => ParsedRecord<z.infer<S>>[][];
    deliverCall: (records: ParsedRecord<z.infer<S>>[], call: CallOptions) => Promise<CallOutcome>;
    parkOrFail: (bodies: string[], reason: string, records: number, ids: string[]) => Promise<boolean>;
    alreadyDelivered: (records: readonly ParsedRecord<z.infer<S>>[]) => Promise<{ fresh: ParsedRecord<z.infer<S>>[]; delivered: ParsedRecord<z.infer<S>>[] }>;
  },
) {
  const { config, logger, metrics, sqs } = deps;
  const queueUrl = config.QUEUE_URL;
  if (!queueUrl) throw new ConfigError('QUEUE_URL is not set');
  const setting = (name: string): number => {
    const value = Number(spec.settings[name]);
    if (!(value > 0)) throw new ConfigError(`${name} is not set`);
    return value;
  };
  const interval = setting(drive.intervalSetting);
  const budget = callsPerRun(setting(drive.budget.callsSetting), setting(drive.budget.windowSetting), interval);
  if (budget < 1) {
    throw new ConfigError(`${drive.budget.callsSetting} is too small for ${drive.intervalSetting}: a drain run would have no call to make`);
  }
  /** Long enough that an empty answer means an empty queue, short enough not to hold the next run back. */
  const waitSeconds = Math.min(20, Math.max(1, Math.floor(interval / 3)));

  const deleteAll = (messages: readonly Message[]) => deleteMessages(sqs, queueUrl, messages);
  /**
   * Messages whose call failed come back after a backoff that doubles with each receive (one
   * interval first, 15 minutes at most) rather than after the whole run's visibility timeout;
   * after maxReceiveCount receives SQS moves them to the DLQ.
   */
  const retryLater = async (messages: readonly Message[]) => {
    const entries = messages.map((message, i) => {
      const receives = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      return { Id: String(i), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: Math.min(900, Math.ceil(interval * 2 ** (receives - 1))) };
    });
    for (const batch of chunk(entries, 10)) await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: batch }));
  };

  return async (_event: unknown, context: Context): Promise<DrainResult> => {
    // getRemainingTimeInMillis already shrinks as the run goes: fix the deadline once.
    const deadline = deps.clock.now() + context.getRemainingTimeInMillis();
    const remaining = () => deadline - deps.clock.now();
    // Held messages stay invisible for the whole run (plus a margin), never longer.
    const visibilitySeconds = Math.ceil(context.getRemainingTimeInMillis() / 1000) + 5;
    const held = new Map<string, Message>();
    const records: ParsedRecord<z.infer<S>>[] = [];

    while (held.size < MAX_MESSAGES_PER_RUN && remaining() > RECEIVE_MARGIN_MS) {
      const room = budget - engine.plan(records).length;
      if (room <= 0) break;
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, room),
          VisibilityTimeout: visibilitySeconds,
          // Long-poll while nothing is held (an empty answer then means an empty queue); once the run
          // holds messages, top up without waiting and send what it has.
          WaitTimeSeconds: held.size > 0 ? 0 : Math.max(0, Math.min(waitSeconds, Math.floor((remaining() - RECEIVE_MARGIN_MS) / 1000))),
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          MessageAttributeNames: [MESSAGE_ID_ATTRIBUTE],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) break;
      const malformed: Message[] = [];
      for (const message of messages) {
        const body = parseMessageBody(spec.schema, message.Body);
        if (body === undefined || !message.MessageId) {
          malformed.push(message);
          continue;
        }
        held.set(message.MessageId, message);
        records.push({
          messageId: message.MessageId,
          body,
          receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
          dedupeId: message.MessageAttributes?.[MESSAGE_ID_ATTRIBUTE]?.StringValue,
        });
      }
      if (malformed.length > 0) {
        logger.error('malformed messages parked', { count: malformed.length });
        // Deleted only once parked; otherwise they come back after the visibility timeout (and
        // reach the DLQ after maxReceiveCount), and this run goes on with the rest.
        if (await engine.parkOrFail(malformed.map((m) => m.Body ?? ''), 'malformed_message', malformed.length, malformed.flatMap((m) => m.MessageId ?? []))) {
          await deleteAll(malformed);
        }
      }
    }

    const result: DrainResult = { calls: 0, records: 0, budget, failedMessages: 0 };
    let throttled = false;
    const messagesOf = (ids: readonly string[]) => ids.flatMap((id) => held.get(id) ?? []);
    const { first, copies } = firstCopies(records);
    if (copies.length > 0) {
      logger.info('duplicate messages skipped', { count: copies.length });
      await deleteAll(messagesOf(copies.map((copy) => copy.messageId)));
    }
    const { fresh, delivered } = await engine.alreadyDelivered(first);
    if (delivered.length > 0) await deleteAll(messagesOf(delivered.map((record) => record.messageId)));
    for (const call of engine.plan(fresh)) {
      const ids = [...new Set(call.map((record) => record.messageId))];
      if (throttled || remaining() <= SAFETY_MARGIN_MS) {
        result.failedMessages += ids.length;
        await retryLater(messagesOf(ids));
        continue;
      }
      result.calls++;
      // Every attempt spends budget: no in-process retry; a failed call's messages come back later.
      const outcome = await engine.deliverCall(call, { deadline: deadline - SAFETY_MARGIN_MS, retries: 0 });
      await deleteAll(messagesOf(outcome.done));
      if (outcome.retry.length > 0) {
        result.failedMessages += outcome.retry.length;
        await retryLater(messagesOf(outcome.retry));
      } else {
        result.records += call.reduce((n, record) => n + spec.weight(record.body), 0);
      }
      // The destination says the budget is spent: keep the rest for a later run.
      if (outcome.throttled) throttled = true;
    }
    metrics.addMetric(MetricName.DrainRuns, MetricUnit.Count, 1);
    logger.info('drain run', { ...result, held: held.size });
    return result;
  };
}
