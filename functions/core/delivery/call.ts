import type { Deps } from '../deps';
import { ConfigError, DeliveryError, DestinationConfigError, PermanentDeliveryError, RetryableDeliveryError } from '../errors';
import type { HttpClient } from '../http';
import { MetricName, MetricUnit } from '../observability';
import { type ParsedRecord, park } from '../sqs-batch';
import { type Backoff, waitSeconds } from './backoff';
import { bisect } from './plan';
import { delivered, later, parked, Verdicts } from './verdicts';

export interface Refusal<B> {
  /** What to park: a message body (possibly a subset of one message's records). */
  body: B;
  reason: string;
  /** Records it holds, for the metric. */
  records: number;
  /** Index, in the `bodies` handed to `send`, of the body these records came from. */
  bodyIndex: number;
}

/** What `send` may use for one downstream call. */
export interface CallOptions {
  /** Absolute time (clock ms) after which no attempt may start. */
  deadline: number;
  /**
   * The client to call the destination with: it already holds the drive's retry policy (a
   * scheduled run's has no in-process retry, since every attempt spends its budget), so no `send`
   * can overspend by mistake.
   */
  http: HttpClient;
}

/** What a partner's delivery gives the core: how to weigh, split and send its messages. */
export interface CallSpec<B> {
  weight: (body: B) => number;
  split?: (body: B, n: number) => [B, B] | undefined;
  /**
   * Makes one downstream call for (parts of) messages. Resolves with the records the destination
   * refused inside a success answer, each naming the index of its body in `bodies`; throws what
   * the HTTP client throws otherwise (core/http.ts `classifyAnswer`).
   */
  send: (bodies: B[], call: CallOptions) => Promise<Refusal<B>[]>;
}

/** The destination is unwell: no further call of this batch or run is started. */
export interface Fault {
  kind: 'config' | 'retryable' | 'throttled';
  /** How long the messages of this call wait; the ones not tried wait as long. */
  seconds: number;
}

interface CallResult {
  verdicts: Verdicts;
  fault?: Fault;
}

export interface CallDeliverer<B> {
  /** One downstream call (bisected when refused) and what becomes of its messages. */
  deliver: (records: ParsedRecord<B>[], call: CallOptions) => Promise<CallResult>;
  /** Puts bodies in the DLQ with a reason; false when the DLQ could not take them (they are then retried, never dropped). */
  park: (bodies: string[], reason: string, records: number) => Promise<boolean>;
}

/**
 * Delivers one planned call, speaking the fault classes of SPEC section 4:
 * - delivered: records refused inside the success answer are parked one group per reason, the rest done;
 * - refused (400, 422 ...) or too big (413): the call is bisected until only the refused records
 *   remain, and those are parked; one bad record never parks the others;
 * - configuration fault (401, 403, 404 on a fixed endpoint, 3xx): the secret is read afresh and
 *   the call tried once more; if refused again nothing is parked, the messages wait (backing off)
 *   and DestinationConfigFaults is counted (its alarm points to `npx bridge doctor`);
 * - retryable (408, 429, 5xx, timeouts): the messages wait, as long as the destination asked on a 429.
 */
export function createCallDeliverer<B>(
  spec: CallSpec<B>,
  deps: Pick<Deps, 'logger' | 'metrics' | 'queue' | 'config' | 'clock' | 'secrets'>,
  options: { destination: string; backoff: Backoff; paced: () => Promise<void> },
): CallDeliverer<B> {
  const { logger, metrics, clock } = deps;
  const { destination, backoff } = options;
  const ids = (records: readonly ParsedRecord<B>[]) => [...new Set(records.map((record) => record.messageId))];
  const receives = (records: readonly ParsedRecord<B>[]) => Math.max(1, ...records.map((record) => record.receiveCount));
  const weigh = (records: readonly ParsedRecord<B>[]) => records.reduce((n, record) => n + spec.weight(record.body), 0);

  const parkBodies = async (bodies: string[], reason: string, records: number): Promise<boolean> => {
    try {
      await park(deps.queue, deps.config.DLQ_URL, bodies, reason);
      metrics.addMetric(MetricName.RecordsParked, MetricUnit.Count, records);
      return true;
    } catch (error) {
      logger.error('could not park refused records', { count: records, reason, errorName: error instanceof Error ? error.name : 'unknown' });
      return false;
    }
  };

  const isConfigFault = (error: unknown) => error instanceof DestinationConfigError || error instanceof ConfigError;

  /** Sends; on a configuration fault reads the secret afresh and tries once more (a rotated key). */
  const sendWithFreshSecret = async (records: ParsedRecord<B>[], call: CallOptions): Promise<Refusal<B>[]> => {
    const bodies = records.map((record) => record.body);
    try {
      return await spec.send(bodies, call);
    } catch (error) {
      if (!isConfigFault(error) || clock.now() >= call.deadline) throw error;
      logger.warn(`${destination} refused our key or endpoint: reading the secret afresh and trying once more`, { status: statusOf(error) });
      try {
        await deps.secrets.refresh(destination);
      } catch (refreshError) {
        logger.error('could not read the secret afresh', { owner: destination, errorName: refreshError instanceof Error ? refreshError.name : 'unknown' });
        throw error;
      }
      return await spec.send(bodies, call);
    }
  };

  const deliver = async (records: ParsedRecord<B>[], call: CallOptions): Promise<CallResult> => {
    const verdicts = new Verdicts();
    const messageIds = ids(records);
    await options.paced();
    if (clock.now() >= call.deadline) {
      verdicts.setAll(messageIds, later(0, false));
      return { verdicts };
    }
    let refusals: Refusal<B>[];
    try {
      refusals = await sendWithFreshSecret(records, call);
    } catch (error) {
      return failed(records, call, error);
    }
    const size = weigh(records);
    const refused = refusals.reduce((n, refusal) => n + refusal.records, 0);
    metrics.addMetric(MetricName.DownstreamCalls, MetricUnit.Count, 1);
    metrics.addMetric(MetricName.RecordsPerCall, MetricUnit.Count, size);
    metrics.addMetric(MetricName.RecordsDelivered, MetricUnit.Count, size - refused);
    verdicts.setAll(messageIds, delivered);
    for (const [reason, group] of Map.groupBy(refusals, (refusal) => refusal.reason)) {
      const count = group.reduce((n, refusal) => n + refusal.records, 0);
      // A refusal naming no body of this call cannot be traced: the whole call waits rather than drop it.
      const owners = group.map((refusal) => records[refusal.bodyIndex]?.messageId);
      const untraced = owners.some((owner) => owner === undefined);
      logger.warn(`${destination} refused records`, { reason, records: count });
      const parkedThem =
        !untraced &&
        (await parkBodies(
          group.map((refusal) => JSON.stringify(refusal.body)),
          reason,
          count,
        ));
      const verdict = parkedThem ? parked : later(waitSeconds(receives(records), backoff), true);
      verdicts.setAll(untraced ? messageIds : (owners as string[]), verdict);
    }
    return { verdicts };
  };

  /** What becomes of a call's messages when it failed. */
  const failed = async (records: ParsedRecord<B>[], call: CallOptions, error: unknown): Promise<CallResult> => {
    const verdicts = new Verdicts();
    const messageIds = ids(records);
    const status = statusOf(error);
    if (isConfigFault(error)) {
      const seconds = waitSeconds(receives(records), backoff);
      metrics.addMetric(MetricName.DestinationConfigFaults, MetricUnit.Count, 1);
      logger.error(`${destination} refuses our key or endpoint: nothing parked, messages wait; check it with npx bridge doctor`, {
        destination,
        status,
        errorName: error instanceof Error ? error.name : 'unknown',
        messages: messageIds.length,
        waitSeconds: seconds,
      });
      verdicts.setAll(messageIds, later(seconds, true));
      return { verdicts, fault: { kind: 'config', seconds } };
    }
    if (error instanceof PermanentDeliveryError) {
      const halves = bisect(records, (record) => spec.weight(record.body), spec.split ? splitRecord(spec.split) : undefined);
      if (halves) {
        logger.warn(`${destination} refused a combined call: trying its halves`, { status, records: weigh(records) });
        const result: CallResult = { verdicts };
        for (const half of halves) {
          if (result.fault) {
            // The destination became unwell meanwhile: this half was not tried.
            verdicts.setAll(ids(half), later(result.fault.seconds, false));
            continue;
          }
          const outcome = await deliver(half, call);
          verdicts.merge(outcome.verdicts);
          result.fault ??= outcome.fault;
        }
        return result;
      }
      const reason = `${destination}_${status ?? 'refused'}`;
      const size = weigh(records);
      logger.error(`${destination} refused a record`, { status, records: size });
      const parkedIt = await parkBodies(
        records.map((record) => JSON.stringify(record.body)),
        reason,
        size,
      );
      verdicts.setAll(messageIds, parkedIt ? parked : later(waitSeconds(receives(records), backoff), true));
      return { verdicts };
    }
    const requested = error instanceof RetryableDeliveryError ? error.retryAfterMs : undefined;
    const seconds = waitSeconds(receives(records), backoff, requested);
    if (status === 429) metrics.addMetric(MetricName.DownstreamThrottled, MetricUnit.Count, 1);
    metrics.addMetric(MetricName.DeliveryFailures, MetricUnit.Count, messageIds.length);
    logger.warn(`${destination} call failed, messages wait`, {
      status,
      errorName: error instanceof Error ? error.name : 'unknown',
      messages: messageIds.length,
      waitSeconds: seconds,
      receiveCounts: records.map((record) => record.receiveCount),
    });
    verdicts.setAll(messageIds, later(seconds, true));
    return { verdicts, fault: { kind: status === 429 ? 'throttled' : 'retryable', seconds } };
  };

  return { deliver, park: parkBodies };
}

function statusOf(error: unknown): number | undefined {
  return error instanceof DeliveryError ? error.status : undefined;
}

/** A body splitter lifted to records: both parts keep the message they came from. */
function splitRecord<B>(split: (body: B, n: number) => [B, B] | undefined) {
  return (record: ParsedRecord<B>, n: number): [ParsedRecord<B>, ParsedRecord<B>] | undefined => {
    const parts = split(record.body, n);
    return (
      parts && [
        { ...record, body: parts[0] },
        { ...record, body: parts[1] },
      ]
    );
  };
}
