import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { flowsFeeding } from './catalogue-index';
import type { DeliveryQueue, IngressFlow } from './catalogue-types';
import { dedupeStoreFromEnv } from './dedupe';
import { type Backoff, FIRST_RETRY_SECONDS } from './delivery/backoff';
import { type CallOptions, createCallDeliverer, type Refusal } from './delivery/call';
import type { ConsumerCore } from './delivery/core';
import { eventSourceDrive } from './delivery/event-source';
import { itemsPerCall, planCalls } from './delivery/plan';
import { type DrainEvent, type DrainResult, scheduleDrive } from './delivery/schedule';
import type { Deps } from './deps';
import { createPacer } from './rate-limit';
import type { ParsedRecord } from './sqs-batch';

export type { CallOptions, Refusal } from './delivery/call';
export { itemsPerCall, planCalls } from './delivery/plan';
export type { DrainEvent, DrainResult } from './delivery/schedule';

/** Seconds a dedupe claim is held beyond the consumer's timeout before another copy may take it. */
const CLAIM_MARGIN_SECONDS = 60;

/**
 * A queue's message schema whose `flow` (a non-empty string) must name a flow of `flows` that feeds
 * `queue` (catalogue `queue` / `alsoFeeds`): a message from any other flow is parked as malformed.
 */
export function fedBy<S extends z.ZodMiniType<{ flow: string }>>(schema: S, flows: readonly IngressFlow[], queue: DeliveryQueue): S {
  const ids = flowsFeeding(flows, queue);
  return schema.check(
    z.refine((message: { flow: string }) => ids.includes(message.flow), { message: `flow must be one of ${ids.join(', ')}`, path: ['flow'] }),
  );
}

/**
 * The contract between the delivery core and a partner's consumer (STYLE.md, "Delivery: say what
 * a fault means, once"). The partner says how to read, weigh, group, split and send its messages;
 * the core plans the calls within the queue's limits, hands `send` an HTTP client that already
 * holds the drive's retry policy and a deadline, classifies every failure (functions/core/http.ts
 * `classifyAnswer`), bisects refused calls, parks only refused records, makes the rest wait, and
 * dedupes where the queue's catalogue entry says so.
 */
export interface DeliverySpec<S extends z.ZodMiniType> {
  /** The queue's catalogue entry: its limits, drive, dedupe and destination are what the consumer keeps to. */
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
   * and the rest so calls can be filled to capacity (and a refused one bisected down to the refused
   * record); undefined keeps the message whole (events: a retried call would send them twice).
   */
  split?: (body: z.infer<S>, n: number) => [z.infer<S>, z.infer<S>] | undefined;
  /**
   * Makes one downstream call for (parts of) messages with `call.http`. Resolves with the records
   * the destination refused inside a success answer (partner-specific parsing lives with the
   * partner), each naming the index of its body in `bodies`; throws what the client throws otherwise.
   */
  send: (bodies: z.infer<S>[], call: CallOptions) => Promise<Refusal<z.infer<S>>[]>;
  /**
   * Where the queue dedupes (catalogue `dedupe`): a message's dedupe key, undefined for none. The
   * store is the consumer's (deps.dedupe locally and in tests, the stack's table in AWS).
   */
  dedupeKey?: (body: z.infer<S>) => string | undefined;
}

/** What either drive's handler is: an SQS batch in and batch item failures out, or a run and its figures. */
export type DeliveryHandler = (event: SQSEvent | DrainEvent, context: Context) => Promise<SQSBatchResponse | DrainResult>;

/**
 * The one delivery consumer. Its queue's catalogue entry says how it is driven: `event-source`
 * (Lambda's SQS event source: delivery/event-source.ts) or `schedule` (a run receives from the queue
 * itself within a call budget: delivery/schedule.ts). Both plan (delivery/plan.ts), deliver one call
 * at a time through delivery/call.ts, and settle each message with SQS (delivery/settle.ts).
 */
export function createDeliveryConsumer<S extends z.ZodMiniType>(spec: DeliverySpec<S>, deps: Deps): DeliveryHandler {
  type Body = z.infer<S>;
  const { queue } = spec;
  const { limits, drive } = queue;
  if (limits.grouped && !spec.group) throw new Error(`${queue.id}: grouped limits need the spec's group()`);
  if (queue.dedupe && !spec.dedupeKey) throw new Error(`${queue.id}: a deduping queue needs the spec's dedupeKey()`);
  const capacity = itemsPerCall(limits, spec.settings);
  const maxSeconds = deps.config.DELIVERY_BACKOFF_MAX_SECONDS;
  const backoff: Backoff =
    drive.kind === 'schedule'
      ? { firstSeconds: Math.min(maxSeconds, Number(spec.settings[drive.intervalSetting]) || FIRST_RETRY_SECONDS), maxSeconds }
      : { firstSeconds: Math.min(maxSeconds, FIRST_RETRY_SECONDS), maxSeconds };
  /** Starts of calls spaced to keep to callsPerSecond, shared across this consumer's concurrent invocations. */
  const perInvocationRate = limits.callsPerSecond && (drive.kind === 'event-source' ? limits.callsPerSecond / drive.maxConcurrency : limits.callsPerSecond);
  const paced = createPacer(perInvocationRate, deps.clock);

  const core: ConsumerCore<Body> = {
    queue,
    deps,
    weight: spec.weight,
    backoff,
    plan: (records: readonly ParsedRecord<Body>[]) =>
      planCalls(records, {
        capacity,
        weight: (record) => spec.weight(record.body),
        // The message's JSON as received (decoded, never serialised again to be measured). A part of a
        // split message is counted at its whole message's size, an upper bound, so no call is over.
        bytes: (record) => record.message.bytes,
        bytesPerCall: limits.bytesPerCall,
        group: spec.group ? (record) => spec.group!(record.body) : undefined,
        split: spec.split
          ? (record, n) => {
              const parts = spec.split!(record.body, n);
              return (
                parts && [
                  { ...record, body: parts[0] },
                  { ...record, body: parts[1] },
                ]
              );
            }
          : undefined,
      }),
    deliverer: createCallDeliverer<Body>({ weight: spec.weight, split: spec.split, send: spec.send }, deps, { destination: queue.destination, backoff, paced }),
    dedupe:
      queue.dedupe && spec.dedupeKey
        ? {
            store: deps.dedupe ?? dedupeStoreFromEnv(deps.config),
            keyOf: spec.dedupeKey,
            ttlSeconds: queue.dedupe.ttlSeconds,
            inFlightSeconds: queue.consumer.timeoutSeconds + CLAIM_MARGIN_SECONDS,
          }
        : undefined,
  };

  const handler = drive.kind === 'event-source' ? eventSourceDrive(core, spec.schema, drive) : scheduleDrive(core, spec.schema, drive, spec.settings);
  return middy<SQSEvent | DrainEvent, SQSBatchResponse | DrainResult>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(deps.metrics))
    .handler(handler as (event: SQSEvent | DrainEvent, context: Context) => Promise<SQSBatchResponse | DrainResult>) as DeliveryHandler;
}
