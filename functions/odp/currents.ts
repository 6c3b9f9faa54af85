import { type Deps, lazyHandler } from '../core/deps';
import { ValidationError } from '../core/errors';
import { flowById } from '../core/flows';
import { createQueuedIngress } from '../core/ingress';
import { odpFlows } from './catalogue';
import { currentsBatchSchema, type OdpEventMessage } from './schemas';
import { currentsBatchToOdp } from './transform';

export const FLOW_ID = 'odp-currents';
export { currentsBatchSchema as requestSchema, currentsEventSchema as recordSchema } from './schemas';

/**
 * POST /optimizely/currents: a Braze Currents custom HTTP batch (up to 100 events) -> one queued
 * ODP event per Currents event, answered 202 once all are durably queued (a 5xx only for our own
 * faults, so Currents retries). An event missing its type, id or time is refused by index.
 */
export function build(deps: Deps) {
  return createQueuedIngress(
    {
      flow: flowById(odpFlows, FLOW_ID),
      schema: currentsBatchSchema,
      toMessages: ({ body, requestId }) => {
        const { events, rejected } = currentsBatchToOdp(body.events);
        if (events.length === 0) throw new ValidationError('invalid request body: no valid event in events', rejected.flatMap((r) => r.issues));
        const messages = events.map(({ id, event }) => {
          const message: OdpEventMessage = { v: 1, flow: FLOW_ID, requestId, dedupe: `odp-currents:${id}`, event };
          return { body: JSON.stringify(message), attributes: { flow: FLOW_ID, type: event.type } };
        });
        return { accepted: events.length, rejected, messages };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
