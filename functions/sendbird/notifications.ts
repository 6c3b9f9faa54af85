import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { createQueuedIngress } from '../core/ingress';
import { sendbirdFlows } from './catalogue';
import { notificationRequestSchema } from './schemas';
import { sendbirdSettings } from './settings';
import { notificationToMessages } from './transform';

export { notificationRequestSchema as requestSchema } from './schemas';

/** Targets per queued message: well under SQS's 256 KiB whatever the ids. */
const MAX_TARGETS_PER_MESSAGE = 1_000;

/**
 * POST /sendbird/notifications: a Braze webhook -> queued Sendbird notification. `realtime` goes to
 * the realtime lane (one target per call, at once); `batch` (the default) to the batch lane, where
 * a campaign's webhooks are combined into calls of up to 10,000 targets. The Api-Token comes from
 * the sendbird secret, never from the Braze template.
 */
export function build(deps: Deps, flow: IngressFlow) {
  const settings = settingsOf(deps, sendbirdSettings);
  return createQueuedIngress(
    {
      flow,
      schema: notificationRequestSchema,
      toMessages: ({ body, requestId }) => {
        const messages = notificationToMessages(body, {
          requestId,
          maxTargetsPerMessage: Math.min(MAX_TARGETS_PER_MESSAGE, settings.SENDBIRD_MAX_TARGETS_PER_CALL),
        });
        return {
          accepted: messages.reduce((n, message) => n + message.targets.length, 0),
          messages: messages.map((message) => ({ body: JSON.stringify(message), attributes: { flow: flow.id, mode: message.mode } })),
          ...(body.mode === 'realtime' ? { lane: 'sendbird-realtime' } : {}),
        };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(sendbirdFlows, build);
