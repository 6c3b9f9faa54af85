import { type Deps, lazyHandler } from '../core/deps';
import { ConfigError } from '../core/errors';
import { joinUrl } from '../core/http';
import { createPackedConsumer } from '../core/packed-consumer';
import { requireSecret } from '../core/secrets';
import { lyticsUsersMessageSchema } from './schemas';

export const FLOW_ID = 'lytics-users-delivery';

/**
 * Drains the lytics-users queue into Lytics' collect API, stream LYTICS_USERS_STREAM
 * (`braze_users`), up to LYTICS_MAX_EVENTS_PER_REQUEST profiles per call. The token travels in the
 * Authorization header, never in the URL (the seed's `?key=` form would put it in access logs).
 */
export function build(deps: Deps) {
  const { config } = deps;
  if (!config.LYTICS_API_URL) throw new ConfigError('LYTICS_API_URL is not set');
  const url = joinUrl(config.LYTICS_API_URL, `collect/json/${encodeURIComponent(config.LYTICS_USERS_STREAM)}`);

  return createPackedConsumer(
    {
      destination: 'lytics',
      schema: lyticsUsersMessageSchema,
      weight: (message) => message.events.length,
      capacity: config.LYTICS_MAX_EVENTS_PER_REQUEST,
      concurrency: 2,
      send: async (messages, deadline) => {
        const token = await requireSecret(deps.secrets, 'lytics', 'api_token');
        await deps.http.send(
          {
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json', authorization: token },
            body: JSON.stringify(messages.flatMap((message) => message.events)),
          },
          { label: 'lytics collect', deadline },
        );
        return [];
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
