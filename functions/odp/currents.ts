import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { ValidationError } from '../core/errors';
import { createQueuedIngress } from '../core/ingress';
import { MetricName, MetricUnit } from '../core/observability';
import { odpFlows } from './catalogue';
import { currentsBatchSchema, type OdpEventMessage } from './schemas';
import { odpSettings } from './settings';
import { currentsBatchToOdp } from './transform';

export { currentsBatchSchema as requestSchema, currentsEventSchema as recordSchema } from './schemas';

/**
 * POST /optimizely/currents: a Braze Currents custom HTTP batch (up to 1,000 events) -> one queued
 * ODP event per Currents event, answered 202 once all are durably queued (a 5xx only for our own
 * faults, so Currents retries). Zero events or an empty body (Braze checking the Current's
 * credentials) is a no-op `202 {"accepted": 0}` once the token is accepted. An event missing its
 * type, id or time is refused by index; an event with no identifier ODP knows (neither an email nor
 * the external id under ODP_EXTERNAL_ID_IDENTIFIER) is not sent: counted per event type
 * (RecordsWithoutIdentifier, and the log line, which names types only) and answered as `skipped`.
 */
export function build(deps: Deps, flow: IngressFlow) {
  const settings = settingsOf(deps, odpSettings);
  const mapping = { externalIdIdentifier: settings.ODP_EXTERNAL_ID_IDENTIFIER };
  return createQueuedIngress(
    {
      flow,
      schema: currentsBatchSchema,
      toMessages: ({ body, requestId }) => {
        const { events, rejected, withoutIdentifier } = currentsBatchToOdp(body.events, mapping);
        const skipped = countWithoutIdentifier(deps, withoutIdentifier);
        if (events.length === 0 && skipped === 0 && rejected.length > 0) {
          throw new ValidationError(
            'invalid request body: no valid event in events',
            rejected.flatMap((r) => r.issues),
          );
        }
        const messages = events.map(({ id, event }) => {
          const message: OdpEventMessage = { v: 1, flow: flow.id, requestId, dedupe: `odp-currents:${id}`, event };
          return { body: JSON.stringify(message), attributes: { flow: flow.id, type: event.type } };
        });
        return { accepted: events.length, rejected, skipped, messages };
      },
    },
    deps,
  );
}

/** A Braze event type as a metric dimension: Braze's own names (`users.messages.email.Open`) as they are, anything else `other`. */
const eventTypeDimension = (eventType: string) => (/^[A-Za-z][A-Za-z0-9_.]{0,99}$/.test(eventType) ? eventType : 'other');

/** Counts the events not sent for want of an identifier: per flow, per Braze event type, and in one log line (types and counts only). */
function countWithoutIdentifier(deps: Pick<Deps, 'logger' | 'metrics'>, counted: Readonly<Record<string, number>>): number {
  const byType: Record<string, number> = {};
  for (const [eventType, count] of Object.entries(counted)) byType[eventTypeDimension(eventType)] = (byType[eventTypeDimension(eventType)] ?? 0) + count;
  const total = Object.values(byType).reduce((sum, n) => sum + n, 0);
  if (total === 0) return 0;
  deps.metrics.addMetric(MetricName.RecordsWithoutIdentifier, MetricUnit.Count, total);
  for (const [eventType, count] of Object.entries(byType)) {
    const perType = deps.metrics.singleMetric();
    perType.addDimension('event_type', eventType);
    perType.addMetric(MetricName.RecordsWithoutIdentifier, MetricUnit.Count, count);
  }
  deps.logger.warn('events not sent to ODP: no identifier ODP knows (an email, or the external id under ODP_EXTERNAL_ID_IDENTIFIER)', {
    withoutIdentifier: byType,
  });
  return total;
}

export const handler = lazyHandler(odpFlows, build);
