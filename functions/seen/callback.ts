import { brazeSettings } from '../braze/settings';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { createQueuedIngress } from '../core/ingress';
import { encodeTrackMessages } from '../core/track-queue';
import { seenCallbackSchema } from './schemas';
import { flowById } from '../core/flows';
import { seenFlows } from './catalogue';
import { seenSettings } from './settings';
import { callbackToTrackItems, parseCampaignConfig } from './transform';

export const FLOW_ID = 'seen-callback';
export { seenCallbackSchema as requestSchema } from './schemas';

/** POST /seen/callback: SEEN "video ready" -> Braze /users/track attributes (via the braze-track queue). */
export function build(deps: Deps) {
  const campaigns = parseCampaignConfig(settingsOf(deps, seenSettings).SEEN_CAMPAIGNS);
  const maxObjects = settingsOf(deps, brazeSettings).BRAZE_MAX_OBJECTS_PER_REQUEST;
  return createQueuedIngress(
    {
      flow: flowById(seenFlows, FLOW_ID),
      schema: seenCallbackSchema,
      toMessages: ({ body, requestId }) => {
        const items = callbackToTrackItems(body, campaigns);
        return { accepted: items.length, messages: encodeTrackMessages(FLOW_ID, requestId, items, maxObjects) };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
