import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler } from '../core/deps';
import { createQueuedIngress } from '../core/ingress';
import { lyticsFlows } from './catalogue';
import { brazeProfileSchema, type LyticsUsersMessage } from './schemas';
import { profileToLyticsEvent } from './transform';

export { brazeProfileSchema as requestSchema } from './schemas';

/** POST /lytics/users: a Braze webhook's user profile, queued for the Lytics collect API. */
export function build(deps: Deps, flow: IngressFlow) {
  return createQueuedIngress(
    {
      flow,
      schema: brazeProfileSchema,
      toMessages: ({ body, requestId }) => {
        const message: LyticsUsersMessage = { v: 1, flow: flow.id, requestId, events: [profileToLyticsEvent(body)] };
        return { accepted: 1, messages: [{ body: JSON.stringify(message), attributes: { flow: flow.id } }] };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(lyticsFlows, build);
