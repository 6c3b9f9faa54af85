import { createDeliveryConsumer } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { queueDefinition } from '../core/flows';
import { joinUrl } from '../core/http';
import { requireSecret } from '../core/secrets';
import { odpQueues } from './catalogue';
import { odpEventMessageSchema } from './schemas';
import { odpSettings } from './settings';

export const FLOW_ID = 'odp-events-delivery';

/**
 * Drains odp-events into `POST {ODP_API_URL}/v3/events` (x-api-key from the odp secret), up to
 * ODP_MAX_OBJECTS_PER_REQUEST events per call. A call ODP refuses for good (400) is bisected by the
 * core until only the refused events remain, so one bad event is parked with its reason and the others delivered; an event
 * id already delivered (Currents resends whole batches) is not sent again.
 */
export function build(deps: Deps) {
  const settings = settingsOf(deps, odpSettings);
  const url = joinUrl(requireSetting(settings, 'ODP_API_URL'), 'v3/events');
  return createDeliveryConsumer(
    {
      queue: queueDefinition(odpQueues, 'odp-events'),
      settings,
      schema: odpEventMessageSchema,
      weight: () => 1,
      dedupeKey: (message) => message.dedupe,
      send: async (messages, call) => {
        const key = await requireSecret(deps.secrets, 'odp', 'api_key');
        await call.http.send(
          { method: 'POST', url, headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(messages.map((m) => m.event)) },
          { label: 'odp /v3/events', deadline: call.deadline },
        );
        return [];
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
