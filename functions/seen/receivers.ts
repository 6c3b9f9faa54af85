import * as z from 'zod/mini';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { flowById } from '../core/flows';
import { createQueuedIngress } from '../core/ingress';
import { validate } from '../core/validation';
import { seenFlows } from './catalogue';
import { campaignSlugSchema, seenReceiversSchema } from './schemas';
import { seenSettings } from './settings';
import { receiversToMessages } from './transform';

export const FLOW_ID = 'seen-receivers';
const pathSchema = z.object({ campaign_slug: campaignSlugSchema });
export { seenReceiversSchema as requestSchema, pathSchema as pathParametersSchema };

/**
 * POST /seen/campaigns/{campaign_slug}/receivers: a Braze webhook's receivers, queued for the
 * SEEN drain, which combines a campaign's receivers and keeps to SEEN's hourly call budget.
 */
export function build(deps: Deps) {
  const maxPerCall = settingsOf(deps, seenSettings).SEEN_MAX_RECEIVERS_PER_CALL;
  return createQueuedIngress(
    {
      flow: flowById(seenFlows, FLOW_ID),
      schema: seenReceiversSchema,
      toMessages: ({ body, pathParameters, requestId }) => {
        const { campaign_slug: campaign } = validate(pathSchema, pathParameters, 'path');
        const messages = receiversToMessages(campaign, body, maxPerCall, requestId);
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
