import type { DeliveryQueue } from '../core/catalogue-types';
import { createDeliveryConsumer, fedBy } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { ConfigError } from '../core/errors';
import { movableInkFlows, movableInkQueues } from './catalogue';
import { movableInkMessageSchema } from './schemas';
import { movableInkSettings } from './settings';
import { movableInkBody } from './transform';

/**
 * Drains the movable-ink queue: one POST per event to MOVABLE_INK_API_URL (the endpoint Movable Ink
 * issued, key included: the URL is never logged, only a label), Basic auth from the movable-ink
 * secret. 429 honours Retry-After, 5xx and timeouts are retried, then the DLQ; any other 4xx is
 * parked with its status at once (it would never succeed). An event whose id was already delivered
 * (a Braze webhook retry) is not sent again.
 */
export function build(deps: Deps, queue: DeliveryQueue) {
  const settings = settingsOf(deps, movableInkSettings);
  const url = requireSetting(settings, 'MOVABLE_INK_API_URL');
  /** The Basic credentials: `api_username` / `api_password` in the secret, or `username` / `password` as Movable Ink names them. */
  const basicCredentials = async () => {
    const values = await deps.secrets.get('movable-ink');
    const username = values.api_username || values.username;
    const password = values.api_password || values.password;
    if (!username || !password) throw new ConfigError('secret movable-ink.api_username / api_password (or username / password) is not set');
    return { username, password };
  };
  return createDeliveryConsumer(
    {
      queue,
      settings,
      schema: fedBy(movableInkMessageSchema, movableInkFlows, queue),
      weight: () => 1,
      dedupeKey: (message) => message.dedupe,
      send: async (messages, call) => {
        const { username, password } = await basicCredentials();
        const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
        for (const message of messages) {
          await call.http.send(
            { method: 'POST', url, headers: { authorization, 'content-type': 'application/json' }, body: movableInkBody(message) },
            { label: `movable-ink ${message.call.type}`, deadline: call.deadline },
          );
        }
        return [];
      },
    },
    deps,
  );
}

export const handler = lazyHandler(movableInkQueues, build);
