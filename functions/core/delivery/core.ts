import type { Logger } from '@aws-lambda-powertools/logger';
import type { DeliveryQueue } from '../catalogue-types';
import type { DedupeStore } from '../dedupe';
import type { Deps } from '../deps';
import { mapWithConcurrency } from '../pack';
import type { ParsedRecord } from '../sqs-batch';
import { type Backoff, IN_FLIGHT_RETRY_SECONDS } from './backoff';
import type { CallDeliverer, CallOptions, Fault } from './call';
import { type ClaimedKeys, claimRecords, settleClaims } from './settle';
import { later, Verdicts } from './verdicts';

/** What both drives share: the queue, the planner, the call deliverer and the dedupe store. */
export interface ConsumerCore<B> {
  queue: DeliveryQueue;
  deps: Deps;
  weight: (body: B) => number;
  plan: (records: readonly ParsedRecord<B>[]) => ParsedRecord<B>[][];
  deliverer: CallDeliverer<B>;
  backoff: Backoff;
  dedupe?: { store: DedupeStore; keyOf: (body: B) => string | undefined; ttlSeconds: number; inFlightSeconds: number };
}

export interface RunOutcome {
  verdicts: Verdicts;
  calls: number;
  /** Records delivered by the calls made. */
  records: number;
  fault?: Fault;
}

/**
 * Claims, plans and delivers records, starting no call after the destination turned out unwell
 * (its messages wait as long as the failed call's, untried) or after the deadline (untried, back at
 * once), then settles the dedupe claims. `mayStart` lets a drive cap the calls (a budget).
 */
export async function deliverRecords<B>(
  core: ConsumerCore<B>,
  records: readonly ParsedRecord<B>[],
  options: { deadline: number; concurrency: number; call: Omit<CallOptions, 'deadline'>; mayStart?: () => boolean; verdicts?: Verdicts },
): Promise<RunOutcome> {
  const { logger, clock } = core.deps;
  const verdicts = options.verdicts ?? new Verdicts();
  const claims = await claim(core, records, verdicts, logger);
  const outcome: RunOutcome = { verdicts, calls: 0, records: 0 };
  const late = { calls: 0, messages: 0 };
  const calls = core.plan(claims.fresh);
  await mapWithConcurrency(calls, options.concurrency, async (call) => {
    const ids = call.map((record) => record.messageId);
    if (outcome.fault) {
      verdicts.setAll(ids, later(outcome.fault.seconds, false));
      return;
    }
    if (clock.now() >= options.deadline || (options.mayStart && !options.mayStart())) {
      late.calls++;
      late.messages += new Set(ids).size;
      verdicts.setAll(ids, later(0, false));
      return;
    }
    outcome.calls++;
    const result = await core.deliverer.deliver(call, { ...options.call, deadline: options.deadline });
    verdicts.merge(result.verdicts);
    if (result.verdicts.ids('later').length === 0) outcome.records += call.reduce((n, record) => n + core.weight(record.body), 0);
    outcome.fault ??= result.fault;
  });
  if (late.calls > 0) logger.warn('deadline reached: calls not started, messages put back untried', late);
  if (core.dedupe) await settleClaims(claims.claimed, verdicts, core.dedupe.store, core.dedupe.ttlSeconds, logger);
  return outcome;
}

async function claim<B>(
  core: ConsumerCore<B>,
  records: readonly ParsedRecord<B>[],
  verdicts: Verdicts,
  logger: Logger,
): Promise<{ fresh: ParsedRecord<B>[]; claimed: ClaimedKeys }> {
  if (!core.dedupe) return { fresh: [...records], claimed: new Map() };
  try {
    return await claimRecords(records, core.dedupe.keyOf, core.dedupe.store, {
      inFlightSeconds: core.dedupe.inFlightSeconds,
      retrySeconds: IN_FLIGHT_RETRY_SECONDS,
      verdicts,
      logger,
    });
  } catch (error) {
    // Without the dedupe table nothing may be sent (it could go twice): every record waits.
    logger.error('could not claim records in the dedupe table: they wait', {
      count: records.length,
      errorName: error instanceof Error ? error.name : 'unknown',
    });
    verdicts.setAll(
      records.map((record) => record.messageId),
      later(core.backoff.firstSeconds, true),
    );
    return { fresh: [], claimed: new Map() };
  }
}
