import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { ValidationError } from '../core/errors';
import { createQueuedIngress } from '../core/ingress';
import { movableInkFlows } from './catalogue';
import { movableInkRequestSchema } from './schemas';
import { movableInkSettings } from './settings';
import { eventsToMovableInk, parseEventNames, parseIdentifyEvents, parseKeepingNumbers } from './transform';

export { movableInkEventSchema as recordSchema, movableInkRequestSchema as requestSchema } from './schemas';

/**
 * POST /movable-ink/events: a Braze webhook's events -> one queued Movable Ink request each (track,
 * or identify). An event that is invalid, anonymous without an email, or older than 30 days is
 * refused by index (202 lists it; 400 when none is valid); anonymous events are skipped under
 * MOVABLE_INK_KNOWN_USERS_ONLY.
 */
export function build(deps: Deps, flow: IngressFlow) {
  const settings = settingsOf(deps, movableInkSettings);
  const options = {
    eventNames: parseEventNames(settings.MOVABLE_INK_EVENT_NAMES),
    identifyEvents: parseIdentifyEvents(settings.MOVABLE_INK_IDENTIFY_EVENTS),
    knownUsersOnly: settings.MOVABLE_INK_KNOWN_USERS_ONLY,
    defaultTimezone: settings.MOVABLE_INK_DEFAULT_TIMEZONE,
  };
  return createQueuedIngress(
    {
      flow,
      schema: movableInkRequestSchema,
      toMessages: ({ body, rawBody, requestId }) => {
        const rawEvents = (parseKeepingNumbers(rawBody) as { events?: unknown[] }).events;
        const batch = eventsToMovableInk(body.events, { ...options, now: deps.clock.now() }, { flow: flow.id, requestId, rawEvents });
        if (batch.messages.length === 0 && batch.skipped === 0) {
          throw new ValidationError(
            'invalid request body: no valid event in events',
            batch.rejected.flatMap((r) => r.issues),
          );
        }
        return {
          accepted: batch.messages.length,
          skipped: batch.skipped,
          rejected: batch.rejected,
          messages: batch.messages.map((message) => ({ body: JSON.stringify(message), attributes: { flow: flow.id, type: message.call.type } })),
        };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(movableInkFlows, build);
