import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { callsPerRun } from '../budget';
import type { ScheduleDrive } from '../catalogue-types';
import { DEDUPE_TABLE_VARIABLE, dedupeStoreFromEnv } from '../dedupe';
import { ConfigError } from '../errors';
import type { HttpClient } from '../http';
import { MetricName, MetricUnit } from '../observability';
import { deleteMessages } from '../queue';
import { firstCopies, type ParsedRecord, parsedRecord, parseMessageBody, stringAttributes } from '../sqs-batch';
import { CallLedger, MemoryDedupeStore, MeteredHttpClient } from './call-ledger';
import { type ConsumerCore, deliverRecords } from './core';
import { SAFETY_MARGIN_MS } from './event-source';
import { copyForLater, waitThenRetry } from './settle';
import { Verdicts } from './verdicts';

/** A scheduled run stops receiving this long before its deadline, leaving time for its calls. */
const RECEIVE_MARGIN_MS = 10_000;
/** Upper bound on the messages one scheduled run holds. */
const MAX_MESSAGES_PER_RUN = 2_000;

export interface DrainResult {
  calls: number;
  records: number;
  budget: number;
  /** Messages that wait for a later run (their call failed, or was not started). */
  failedMessages: number;
}

/** A scheduled run's event (EventBridge's, or the local timer's); its content is not read. */
export type DrainEvent = Readonly<Record<string, unknown>>;

/**
 * A scheduled run: never more than `calls` calls in any `window` (a rolling window kept in the
 * dedupe store by a CallLedger, shared by every run whichever instance makes it, starting full),
 * and at most max(1, callsPerRun(calls, window, interval)) planned calls per run, so a large
 * budget is spread over the window and a budget under one call per run (3 an hour) carries its
 * unused fraction to later runs. A run claims its calls first and receives only what it can send
 * with them (at most one new call per received message), long-polling so that an empty receive
 * means an empty queue; with no call left in the window it receives nothing. Its HTTP client
 * spends one call per request and makes no in-process retry: a planned call spends one of the
 * claimed calls; the halves of a refused call being bisected take more from the window once the
 * run's share is spent, never more than it holds. Messages tried and not taken wait a backoff
 * that doubles from one interval; messages not tried (the destination turned unwell, the deadline
 * came) go back as fresh copies and spend no receive.
 */
export function scheduleDrive<S extends z.ZodMiniType>(
  core: ConsumerCore<z.infer<S>>,
  schema: S,
  drive: ScheduleDrive,
  settings: Readonly<Record<string, unknown>>,
) {
  type Body = z.infer<S>;
  const { deps } = core;
  const { config, logger, metrics, sqs } = deps;
  const queueUrl = config.QUEUE_URL;
  if (!queueUrl) throw new ConfigError('QUEUE_URL is not set');
  const setting = (name: string): number => {
    const value = Number(settings[name]);
    if (!(value > 0)) throw new ConfigError(`${name} is not set`);
    return value;
  };
  const interval = setting(drive.intervalSetting);
  const calls = setting(drive.budget.callsSetting);
  const windowSeconds = setting(drive.budget.windowSetting);
  if (!Number.isInteger(calls)) throw new ConfigError(`${drive.budget.callsSetting} must be a whole number of calls`);
  const perRun = Math.max(1, callsPerRun(calls, windowSeconds, interval));
  const ledger = new CallLedger(ledgerStore(deps), {
    name: core.queue.id,
    calls,
    windowSeconds,
    holdSeconds: core.queue.consumer.timeoutSeconds + LEDGER_HOLD_MARGIN_SECONDS,
  });
  /** Long enough that an empty answer means an empty queue, short enough not to hold the next run back. */
  const waitSeconds = Math.min(20, Math.max(1, Math.floor(interval / 3)));
  const unmetered = deps.http.withPolicy({ retries: 0 });
  const deleteAll = (messages: readonly Message[]) => deleteMessages(sqs, queueUrl, messages);

  /** One run with `budget` calls claimed, spent through `http`. */
  const drainRun = async (context: Context, budget: number, http: HttpClient): Promise<DrainResult> => {
    // getRemainingTimeInMillis already shrinks as the run goes: fix the deadline once.
    const deadline = deps.clock.now() + context.getRemainingTimeInMillis();
    const remaining = () => deadline - deps.clock.now();
    // Held messages stay invisible for the whole run (plus a margin), never longer.
    const visibilitySeconds = Math.ceil(context.getRemainingTimeInMillis() / 1000) + 5;
    const held = new Map<string, Message>();
    const records: ParsedRecord<Body>[] = [];

    while (held.size < MAX_MESSAGES_PER_RUN && remaining() > RECEIVE_MARGIN_MS) {
      const room = budget - core.plan(records).length;
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
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) break;
      const malformed: Message[] = [];
      for (const message of messages) {
        const parsed = parseMessageBody(schema, message.Body);
        if (parsed === undefined || !message.MessageId) {
          malformed.push(message);
          continue;
        }
        held.set(message.MessageId, message);
        const attributes = stringAttributes(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]));
        records.push(
          parsedRecord(message.MessageId, parsed.value, message.Attributes?.ApproximateReceiveCount, {
            receiptHandle: message.ReceiptHandle ?? '',
            body: message.Body ?? '',
            bytes: parsed.bytes,
            attributes,
          }),
        );
      }
      if (malformed.length > 0) {
        logger.error('malformed messages parked', { count: malformed.length });
        // Deleted only once parked; otherwise they come back after the visibility timeout (and
        // reach the DLQ after maxReceiveCount), and this run goes on with the rest.
        if (
          await core.deliverer.park(
            malformed.map((m) => m.Body ?? ''),
            'malformed_message',
            malformed.length,
          )
        )
          await deleteAll(malformed);
      }
    }

    const messagesOf = (ids: readonly string[]) => ids.flatMap((id) => held.get(id) ?? []);
    const { first, copies } = firstCopies(records);
    if (copies.length > 0) {
      logger.info('duplicate messages skipped', { count: copies.length });
      await deleteAll(messagesOf(copies.map((copy) => copy.messageId)));
    }
    const verdicts = new Verdicts();
    let started = 0;
    const outcome = await deliverRecords(core, first, {
      deadline: deadline - SAFETY_MARGIN_MS,
      concurrency: 1,
      call: { http },
      verdicts,
      // The plan is within the budget by construction; this keeps it so whatever the split.
      mayStart: () => started++ < budget,
    });

    // Settle: done ones deleted, tried ones wait their backoff, untried ones go back as copies.
    const byId = new Map(first.map((record) => [record.messageId, record] as const));
    const done: string[] = [];
    const waits: { id: string; message: ParsedRecord<Body>['message']; seconds: number }[] = [];
    const untried: { id: string; message: ParsedRecord<Body>['message']; seconds: number }[] = [];
    for (const record of first) {
      const verdict = verdicts.get(record.messageId);
      if (!verdict) continue; // no verdict: left to its visibility timeout, never dropped
      if (verdict.kind !== 'later') done.push(record.messageId);
      else (verdict.attempted ? waits : untried).push({ id: record.messageId, message: byId.get(record.messageId)!.message, seconds: verdict.seconds });
    }
    await deleteAll(messagesOf(done));
    await waitThenRetry(sqs, queueUrl, waits, logger);
    if (await copyForLater(deps.queue, queueUrl, untried, logger)) await deleteAll(messagesOf(untried.map((copy) => copy.id)));

    const result: DrainResult = { calls: outcome.calls, records: outcome.records, budget, failedMessages: waits.length + untried.length };
    metrics.addMetric(MetricName.DrainRuns, MetricUnit.Count, 1);
    logger.info('drain run', { ...result, held: held.size });
    return result;
  };

  return async (_event: DrainEvent, context: Context): Promise<DrainResult> => {
    // The calls this run may make, claimed before anything is received.
    const slots = await ledger.take(perRun);
    if (slots.length === 0) {
      logger.info('drain run: no call left in the budget window, nothing received', { calls, windowSeconds });
      metrics.addMetric(MetricName.DrainRuns, MetricUnit.Count, 1);
      return { calls: 0, records: 0, budget: 0, failedMessages: 0 };
    }
    const unspent = [...slots];
    // Planned calls spend the slots claimed for them; the halves of a refused call that is being
    // bisected may go beyond the run's share, never beyond the window's budget.
    const http = new MeteredHttpClient(unmetered, async () => {
      const slot = unspent.shift() ?? (await ledger.take(1))[0];
      if (slot === undefined) return false;
      await ledger.spend(slot);
      return true;
    });
    try {
      return await drainRun(context, slots.length, http);
    } finally {
      await ledger.giveBack(unspent).catch((error: unknown) => {
        logger.warn('could not give back unused calls: they are free again once their claim expires', {
          count: unspent.length,
          errorName: error instanceof Error ? error.name : 'unknown',
        });
      });
    }
  };
}

/** Seconds a run's claimed calls stay held beyond its timeout, should it die before giving them back. */
const LEDGER_HOLD_MARGIN_SECONDS = 60;

/**
 * Where the call ledger is kept: the consumer's dedupe store (the local runner's embedded
 * DynamoDB), else the stack's table (DEDUPE_TABLE_NAME, set on every scheduled consumer), else, with
 * neither (unit tests), this process's memory.
 */
function ledgerStore(deps: ConsumerCore<unknown>['deps']) {
  if (deps.dedupe) return deps.dedupe;
  if (deps.config.env[DEDUPE_TABLE_VARIABLE]) return dedupeStoreFromEnv(deps.config);
  deps.logger.warn(`${DEDUPE_TABLE_VARIABLE} is not set: the call budget is kept in this process only`);
  return new MemoryDedupeStore(deps.clock);
}
