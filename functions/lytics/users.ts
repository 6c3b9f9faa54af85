import { type Deps, lazyHandler, requireSetting } from '../core/deps';
import { createIngressHandler } from '../core/ingress';
import { brazeProfileSchema, type LyticsUsersMessage } from './schemas';
import { profileToLyticsEvent } from './transform';

export const FLOW_ID = 'lytics-users';

/** POST /lytics/users: a Braze webhook's user profile, queued for the Lytics collect API. */
export function build(deps: Deps) {
  const { config } = deps;
  const queueUrl = requireSetting(config, 'QUEUE_URL');
  return createIngressHandler(
    {
      flowId: FLOW_ID,
      owner: 'lytics',
      schema: brazeProfileSchema,
      maxBodyBytes: config.MAX_BODY_BYTES,
      handle: async ({ body, requestId }) => {
        const message: LyticsUsersMessage = { v: 1, flow: FLOW_ID, requestId, events: [profileToLyticsEvent(body)] };
        await deps.queue.sendAll(queueUrl, [{ body: JSON.stringify(message), attributes: { flow: FLOW_ID } }]);
        return { accepted: 1 };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
