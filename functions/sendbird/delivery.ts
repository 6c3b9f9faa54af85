import { createDeliveryConsumer } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { queueDefinition } from '../core/flows';
import { joinUrl } from '../core/http';
import { requireSecret } from '../core/secrets';
import { sendbirdQueues } from './catalogue';
import { notificationMessageSchema } from './schemas';
import { sendbirdSettings } from './settings';
import { sendbirdBody } from './transform';

export const FLOW_ID = 'sendbird-batch-delivery';

/**
 * Drains one Sendbird lane (the queue named by the function's flow: `sendbird-realtime` or
 * `sendbird-batch`) into `POST {SENDBIRD_API_URL}/v1/notifications` with the Api-Token from the
 * sendbird secret. Webhooks of one campaign (same group) are combined up to
 * SENDBIRD_MAX_TARGETS_PER_CALL targets; messages stay whole, so a failed call retries only its own
 * webhooks, and a webhook whose id was delivered before is not sent again.
 */
export function build(deps: Deps) {
  const settings = settingsOf(deps, sendbirdSettings);
  const url = joinUrl(requireSetting(settings, 'SENDBIRD_API_URL'), 'v1/notifications');
  return createDeliveryConsumer(
    {
      queue: queueDefinition(sendbirdQueues, deps.flowId.replace(/-delivery$/, '')),
      settings,
      schema: notificationMessageSchema,
      weight: (message) => message.targets.length,
      group: (message) => message.group,
      dedupeKey: (message) => message.dedupe,
      send: async (messages, call) => {
        const token = await requireSecret(deps.secrets, 'sendbird', 'api_token');
        await call.http.send(
          { method: 'POST', url, headers: { 'api-token': token, 'content-type': 'application/json' }, body: sendbirdBody(messages) },
          { label: `sendbird ${messages[0]!.mode}`, deadline: call.deadline },
        );
        return [];
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
