import { brazeSettings } from '../braze/settings';
import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { createQueuedIngress } from '../core/ingress';
import { encodeTrackMessages } from '../core/track-queue';
import { seenFlows } from './catalogue';
import { seenCallbackSchema } from './schemas';
import { seenSettings } from './settings';
import { callbackToTrackItems, parseAllowedHosts, parseCampaignConfig } from './transform';

export { seenCallbackSchema as requestSchema } from './schemas';

/**
 * POST /seen/callback: SEEN "video ready" -> Braze /users/track attributes (via the braze-track
 * queue). SEEN_API_VERSION=2 maps `player_url` and `email_thumbnail_url` by default (what Braze's
 * SEEN page has a 2.0 webhook node send), the legacy API `landing_page_url` and
 * `email_thumbnail_url`; SEEN_CAMPAIGNS maps others per campaign. Links must be https, on a host
 * of SEEN_ALLOWED_URL_HOSTS when it is set. SEEN authenticates with the inbound token as Bearer,
 * `?token=`, or the password of Basic auth (catalogue `auth`).
 */
export function build(deps: Deps, flow: IngressFlow) {
  const settings = settingsOf(deps, seenSettings);
  const campaigns = parseCampaignConfig(settings.SEEN_CAMPAIGNS);
  const options = { version: settings.SEEN_API_VERSION, allowedHosts: parseAllowedHosts(settings.SEEN_ALLOWED_URL_HOSTS) };
  const maxObjects = settingsOf(deps, brazeSettings).BRAZE_MAX_OBJECTS_PER_REQUEST;
  return createQueuedIngress(
    {
      flow,
      schema: seenCallbackSchema,
      toMessages: ({ body, requestId }) => {
        const items = callbackToTrackItems(body, campaigns, options);
        return { accepted: items.length, messages: encodeTrackMessages(flow.id, requestId, items, maxObjects) };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(seenFlows, build);
