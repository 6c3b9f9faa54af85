import { type Deps, lazyHandler, requireSetting } from '../core/deps';
import { createIngressHandler } from '../core/ingress';
import { encodeTrackMessages } from '../core/track-queue';
import { seenCallbackSchema } from './schemas';
import { callbackToTrackItems, parseCampaignConfig } from './transform';

export const FLOW_ID = 'seen-callback';

/** POST /seen/callback: SEEN "video ready" -> Braze /users/track attributes (via the braze-track queue). */
export function build(deps: Deps) {
  const { config } = deps;
  const queueUrl = requireSetting(config, 'QUEUE_URL');
  const campaigns = parseCampaignConfig(config.SEEN_CAMPAIGNS);
  return createIngressHandler(
    {
      flowId: FLOW_ID,
      owner: 'seen',
      schema: seenCallbackSchema,
      maxBodyBytes: config.MAX_BODY_BYTES,
      handle: async ({ body, requestId }) => {
        const items = callbackToTrackItems(body, campaigns);
        await deps.queue.sendAll(queueUrl, encodeTrackMessages(FLOW_ID, requestId, items, config.BRAZE_MAX_OBJECTS_PER_REQUEST));
        return { accepted: items.length };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
