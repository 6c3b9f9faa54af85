import type { Context } from 'aws-lambda';
import { brazeSettings } from '../braze/settings';
import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { ValidationError } from '../core/errors';
import { createQueuedIngress, type HttpEvent, type HttpResult } from '../core/ingress';
import { encodeTrackMessages } from '../core/track-queue';
import { pathsInMessage } from '../core/validation';
import { sendbirdFlows } from './catalogue';
import { callbackRequestSchema } from './schemas';
import { sendbirdSettings } from './settings';
import { callbackEventsToTrackItems } from './transform';

export { callbackRequestSchema as requestSchema } from './schemas';

/**
 * What this route answers on success, for the OpenAPI document (local/openapi.ts): what Braze's
 * /users/track answers (braze.com/docs/api/endpoints/user_data/post_user_track, "Example success
 * response": `{"message": "success", "events_processed": 1, ...}`), since its sender is Sendbird's
 * Braze integration, which expects Braze.
 */
export const successAnswer = {
  status: 201,
  description: "Durably queued, answered as Braze's /users/track answers a success (its sender expects Braze).",
  schema: {
    type: 'object',
    required: ['message', 'events_processed'],
    properties: { message: { const: 'success' }, events_processed: { type: 'integer', minimum: 0, description: 'Events queued.' } },
  },
  example: { message: 'success', events_processed: 1 },
} as const;

/** The event names a deployment lets the callback write (SENDBIRD_CALLBACK_EVENT_NAMES), undefined for any. */
export function allowedEventNames(setting: string | undefined): ReadonlySet<string> | undefined {
  if (setting === undefined) return undefined;
  const names = setting
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return names.length > 0 ? new Set(names) : undefined;
}

/**
 * POST /sendbird/braze/users/track: a facade of Braze's /users/track for Sendbird's Braze
 * integration. In Sendbird's dashboard the "Braze REST endpoint" is `https://<api>/sendbird/braze`
 * (Sendbird appends `/users/track`) and the "Braze REST API key" the Sendbird inbound token, sent as
 * `Authorization: Bearer`: Sendbird holds no Braze key. Its custom events (a notification's SENT and
 * READ) go to Braze on the realtime lane, each (identifiers, name, properties) once within two days;
 * attributes, purchases and anything else are refused (400 naming the field), and so is an event
 * name SENDBIRD_CALLBACK_EVENT_NAMES does not list. Answers 201 `{"message": "success"}` as Braze.
 */
export function build(deps: Deps, flow: IngressFlow) {
  const maxObjects = settingsOf(deps, brazeSettings).BRAZE_MAX_OBJECTS_PER_REQUEST;
  const allowed = allowedEventNames(settingsOf(deps, sendbirdSettings).SENDBIRD_CALLBACK_EVENT_NAMES);
  const ingress = createQueuedIngress(
    {
      flow,
      schema: callbackRequestSchema,
      toMessages: ({ body, requestId }) => {
        const { events } = body;
        if (allowed) {
          const issues = events.flatMap((event, index) =>
            allowed.has(event.name)
              ? []
              : [{ path: `events[${index}].name`, message: 'not an event name this deployment lets Sendbird write (SENDBIRD_CALLBACK_EVENT_NAMES)' }],
          );
          if (issues.length > 0) throw new ValidationError(`invalid request body: ${pathsInMessage(issues)}`, issues);
        }
        const messages = callbackEventsToTrackItems(events).flatMap(({ item, dedupe }) => encodeTrackMessages(flow.id, requestId, [item], maxObjects, dedupe));
        return { accepted: events.length, messages };
      },
    },
    deps,
  );
  return async (event: HttpEvent, context: Context): Promise<HttpResult> => asBraze(await ingress(event, context));
}

/** A 202 `{"accepted": n}` answered as Braze answers a success: 201 `{"message": "success", "events_processed": n}`. */
export function asBraze(result: HttpResult): HttpResult {
  if (result.statusCode !== 202) return result;
  const accepted = (JSON.parse(result.body ?? '{}') as { accepted?: number }).accepted ?? 0;
  return { ...result, statusCode: successAnswer.status, body: JSON.stringify({ message: 'success', events_processed: accepted }) };
}

export const handler = lazyHandler(sendbirdFlows, build);
