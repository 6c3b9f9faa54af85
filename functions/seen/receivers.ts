import { type Deps, lazyHandler, requireSetting } from '../core/deps';
import { createIngressHandler } from '../core/ingress';
import * as z from 'zod/mini';
import { validate } from '../core/validation';
import { campaignSlugSchema, seenReceiversSchema } from './schemas';
import { receiversToMessages } from './transform';

export const FLOW_ID = 'seen-receivers';
const pathSchema = z.object({ campaign_slug: campaignSlugSchema });

/**
 * POST /seen/campaigns/{campaign_slug}/receivers: a Braze webhook's receivers, queued for the
 * SEEN drain, which combines a campaign's receivers and keeps to SEEN's hourly call budget.
 */
export function build(deps: Deps) {
  const { config } = deps;
  const queueUrl = requireSetting(config, 'QUEUE_URL');
  return createIngressHandler(
    {
      flowId: FLOW_ID,
      owner: 'seen',
      schema: seenReceiversSchema,
      maxBodyBytes: config.MAX_BODY_BYTES,
      handle: async ({ body, pathParameters, requestId }) => {
        const { campaign_slug: campaign } = validate(pathSchema, pathParameters, 'path');
        const messages = receiversToMessages(campaign, body, config.SEEN_MAX_RECEIVERS_PER_CALL, requestId);
        await deps.queue.sendAll(
          queueUrl,
          messages.map((message) => ({ body: JSON.stringify(message), attributes: { flow: FLOW_ID, campaign } })),
        );
        return { accepted: body.length };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
