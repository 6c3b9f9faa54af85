import { createDeliveryConsumer } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { queueDefinition } from '../core/flows';
import { joinUrl } from '../core/http';
import { requireSecret } from '../core/secrets';
import { lyticsQueues } from './catalogue';
import { lyticsUsersMessageSchema } from './schemas';
import { lyticsSettings } from './settings';

export const FLOW_ID = 'lytics-users-delivery';

/**
 * Drains the lytics-users queue into Lytics' collect API, stream LYTICS_USERS_STREAM
 * (`braze_users`), up to LYTICS_MAX_EVENTS_PER_REQUEST profiles per call (the queue's limits in
 * the catalogue). The token travels in the Authorization header, never in the URL (the seed's
 * `?key=` form would put it in access logs).
 */
export function build(deps: Deps) {
  const settings = settingsOf(deps, lyticsSettings);
  const url = joinUrl(requireSetting(settings, 'LYTICS_API_URL'), `collect/json/${encodeURIComponent(settings.LYTICS_USERS_STREAM)}`);

  return createDeliveryConsumer(
    {
      queue: queueDefinition(lyticsQueues, 'lytics-users'),
      settings,
      schema: lyticsUsersMessageSchema,
      weight: (message) => message.events.length,
      send: async (messages, call) => {
        const token = await requireSecret(deps.secrets, 'lytics', 'api_token');
        await call.http.send(
          {
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json', authorization: token },
            body: JSON.stringify(messages.flatMap((message) => message.events)),
          },
          { label: 'lytics collect', deadline: call.deadline },
        );
        return [];
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
