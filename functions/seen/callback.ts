import { type Deps, lazyHandler } from '../core/deps';
import { createQueuedIngress } from '../core/ingress';
import { encodeTrackMessages } from '../core/track-queue';
import { seenCallbackSchema } from './schemas';
import { callbackToTrackItems, parseCampaignConfig } from './transform';

export const FLOW_ID = 'seen-callback';

/** POST /seen/callback: SEEN "video ready" -> Braze /users/track attributes (via the braze-track queue). */
export function build(deps: Deps) {
  const campaigns = parseCampaignConfig(deps.config.SEEN_CAMPAIGNS);
  return createQueuedIngress(
    {
      flowId: FLOW_ID,
      owner: 'seen',
      schema: seenCallbackSchema,
      toMessages: ({ body, requestId }) => {
        const items = callbackToTrackItems(body, campaigns);
        return { accepted: items.length, messages: encodeTrackMessages(FLOW_ID, requestId, items, deps.config.BRAZE_MAX_OBJECTS_PER_REQUEST) };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
