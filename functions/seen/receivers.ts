import * as z from 'zod/mini';
import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { ValidationError } from '../core/errors';
import { createQueuedIngress } from '../core/ingress';
import { pathsInMessage, validate } from '../core/validation';
import { SEEN_DATA_QUEUE, seenFlows } from './catalogue';
import { campaignSlugSchema, seenReceiversRequestSchema } from './schemas';
import { seenSettings } from './settings';
import { parseProjects, projectEndpoint, receiversToMessages } from './transform';

const pathSchema = z.object({ campaign_slug: campaignSlugSchema });

export { seenAnyReceiverSchema as recordSchema, seenReceiversRequestSchema as requestSchema } from './schemas';
export { pathSchema as pathParametersSchema };

/**
 * POST /seen/campaigns/{campaign_slug}/receivers: a Braze webhook's receivers (one or an array),
 * one queue message each, checked one by one (a bad one is refused by index; 400 when none is
 * valid). SEEN_API_VERSION picks the lane: 1, the `seen-receivers` queue, drained on a schedule
 * within the hourly budget of the legacy API; 2, the `seen-data` queue, one SEEN 2.0 request per
 * receiver to the data URL SEEN_PROJECTS maps the campaign to (a campaign with no project is
 * refused here, naming campaign_slug).
 */
export function build(deps: Deps, flow: IngressFlow) {
  const settings = settingsOf(deps, seenSettings);
  const version = settings.SEEN_API_VERSION;
  const projects = parseProjects(settings.SEEN_PROJECTS);
  return createQueuedIngress(
    {
      flow,
      schema: seenReceiversRequestSchema,
      toMessages: ({ body, pathParameters, requestId }) => {
        const { campaign_slug: campaign } = validate(pathSchema, pathParameters, 'path');
        if (version === 2 && !projectEndpoint(campaign, { projects, apiUrl: settings.SEEN_API_URL })) {
          throw new ValidationError('invalid path: campaign_slug', [
            { path: 'campaign_slug', message: 'no SEEN project for this campaign: map it to its data URL in SEEN_PROJECTS' },
          ]);
        }
        const batch = receiversToMessages(body, { version, campaign, requestId });
        const messages = version === 2 ? batch.data : batch.legacy;
        if (messages.length === 0) {
          const issues = batch.rejected.flatMap((r) => r.issues);
          throw new ValidationError(`invalid request body: no valid receiver: ${pathsInMessage(issues)}`, issues);
        }
        return {
          accepted: messages.length,
          rejected: batch.rejected,
          messages: messages.map((message) => ({ body: JSON.stringify(message), attributes: { flow: flow.id, campaign } })),
          ...(version === 2 ? { lane: SEEN_DATA_QUEUE } : {}),
        };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(seenFlows, build);
