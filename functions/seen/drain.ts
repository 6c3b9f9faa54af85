import type { DeliveryQueue } from '../core/catalogue-types';
import { createDeliveryConsumer, fedBy } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { joinUrl } from '../core/http';
import { requireSecret } from '../core/secrets';
import { seenFlows, seenQueues } from './catalogue';
import { seenQueueMessageSchema } from './schemas';
import { seenSettings } from './settings';

/**
 * The SEEN legacy delivery (docs.seen.io, SEEN API 1.0 Legacy: `POST /v1/campaigns/{slug}/receivers/`,
 * `Authorization: Token`, an array of receivers): the generic consumer on a schedule (EventBridge
 * in AWS, a timer locally), as the `seen-receivers` queue's catalogue entry says: at most
 * SEEN_MAX_CALLS_PER_HOUR calls in any SEEN_BUDGET_WINDOW_SECONDS, counted in the call ledger every
 * run shares (core/delivery/call-ledger.ts), and at most max(1, callsPerRun(...)) per run; one
 * campaign per call, its receivers (one per queue message) combined up to SEEN_MAX_RECEIVERS_PER_CALL.
 * The core hands `send` a client that spends one call of the budget per request and never retries
 * in-process; a combined call SEEN refuses is bisected until the refused receiver parks alone.
 */
export function build(deps: Deps, queue: DeliveryQueue) {
  const settings = settingsOf(deps, seenSettings);
  const seenUrl = requireSetting(settings, 'SEEN_API_URL');
  return createDeliveryConsumer(
    {
      queue,
      settings,
      schema: fedBy(seenQueueMessageSchema, seenFlows, queue),
      weight: (message) => message.receivers.length,
      group: (message) => message.campaign,
      send: async (messages, call) => {
        const campaign = messages[0]!.campaign;
        const token = await requireSecret(deps.secrets, 'seen', 'api_token');
        await call.http.send(
          {
            method: 'POST',
            url: joinUrl(seenUrl, `v1/campaigns/${encodeURIComponent(campaign)}/receivers/`),
            // The campaign slug comes from the records: a 404 refuses them (an unknown campaign), it is no fault of the endpoint.
            fixedEndpoint: false,
            headers: { 'content-type': 'application/json', authorization: `Token ${token}` },
            body: JSON.stringify(messages.flatMap((message) => message.receivers)),
          },
          { label: 'seen receivers', deadline: call.deadline },
        );
        return [];
      },
    },
    deps,
  );
}

export const handler = lazyHandler(seenQueues, build);
