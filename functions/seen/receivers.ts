import * as z from 'zod/mini';
import { type Deps, lazyHandler } from '../core/deps';
import { createQueuedIngress } from '../core/ingress';
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
  return createQueuedIngress(
    {
      flowId: FLOW_ID,
      owner: 'seen',
      schema: seenReceiversSchema,
      toMessages: ({ body, pathParameters, requestId }) => {
        const { campaign_slug: campaign } = validate(pathSchema, pathParameters, 'path');
        const messages = receiversToMessages(campaign, body, deps.config.SEEN_MAX_RECEIVERS_PER_CALL, requestId);
        return {
          accepted: body.length,
          messages: messages.map((message) => ({ body: JSON.stringify(message), attributes: { flow: FLOW_ID, campaign } })),
        };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
