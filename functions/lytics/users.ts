import { type Deps, lazyHandler } from '../core/deps';
import { flowById } from '../core/flows';
import { createQueuedIngress } from '../core/ingress';
import { lyticsFlows } from './catalogue';
import { brazeProfileSchema, type LyticsUsersMessage } from './schemas';
import { profileToLyticsEvent } from './transform';

export const FLOW_ID = 'lytics-users';
export { brazeProfileSchema as requestSchema } from './schemas';

/** POST /lytics/users: a Braze webhook's user profile, queued for the Lytics collect API. */
export function build(deps: Deps) {
  return createQueuedIngress(
    {
      flow: flowById(lyticsFlows, FLOW_ID),
      schema: brazeProfileSchema,
      toMessages: ({ body, requestId }) => {
        const message: LyticsUsersMessage = { v: 1, flow: FLOW_ID, requestId, events: [profileToLyticsEvent(body)] };
        return { accepted: 1, messages: [{ body: JSON.stringify(message), attributes: { flow: FLOW_ID } }] };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
