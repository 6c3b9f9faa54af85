import { brazeSettings } from '../braze/settings';
import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { ValidationError } from '../core/errors';
import { createQueuedIngress } from '../core/ingress';
import { encodeTrackMessages, type TriggerMessage } from '../core/track-queue';
import { allowedTargets, isAllowed } from './allowed-targets';
import { odpFlows } from './catalogue';
import { activationRequestSchema } from './schemas';
import { odpSettings } from './settings';
import { activationToBraze } from './transform';

export { activationRecordSchema as recordSchema, activationRequestSchema as requestSchema } from './schemas';

/**
 * POST /optimizely/activation: ODP activation records -> Braze. `profile`: attributes on the
 * realtime /users/track lane; `campaign` / `canvas`: one queued recipient each on the
 * braze-triggers lane, combined there BRAZE_MAX_RECIPIENTS_PER_TRIGGER (50) per trigger call. Only the campaigns and Canvases the
 * deployment allows (ODP_ALLOWED_CAMPAIGNS / ODP_ALLOWED_CANVASES; unset allows none) may be
 * triggered: any other id refuses the request with 400 naming `campaign_id` / `canvas_id`, and
 * nothing is queued. A bad record, or one whose fields would write Braze's identifiers,
 * subscription state or push tokens, is refused by index; an unknown target or a campaign without
 * campaign_id refuses the request, naming the field.
 */
export function build(deps: Deps, flow: IngressFlow) {
  const maxObjects = settingsOf(deps, brazeSettings).BRAZE_MAX_OBJECTS_PER_REQUEST;
  const settings = settingsOf(deps, odpSettings);
  const allowed = {
    campaign: { ids: allowedTargets(settings.ODP_ALLOWED_CAMPAIGNS), field: 'campaign_id', setting: 'ODP_ALLOWED_CAMPAIGNS' },
    canvas: { ids: allowedTargets(settings.ODP_ALLOWED_CANVASES), field: 'canvas_id', setting: 'ODP_ALLOWED_CANVASES' },
  } as const;
  return createQueuedIngress(
    {
      flow,
      schema: activationRequestSchema,
      toMessages: ({ body, requestId }) => {
        if (body.target !== 'profile') {
          const rule = allowed[body.target];
          const target = (body.target === 'campaign' ? body.campaign_id : body.canvas_id)!;
          if (!isAllowed(rule.ids, target)) {
            const message = `not a ${body.target === 'campaign' ? 'campaign' : 'Canvas'} this deployment lets ODP trigger (${rule.setting})`;
            throw new ValidationError(`invalid request body: ${rule.field} is ${message}`, [{ path: rule.field, message }]);
          }
        }
        const batch = activationToBraze(body);
        const accepted = batch.attributes.length + batch.recipients.length;
        if (accepted === 0)
          throw new ValidationError(
            'invalid request body: no valid record in records',
            batch.rejected.flatMap((r) => r.issues),
          );
        if (body.target === 'profile') {
          return { accepted, rejected: batch.rejected, messages: encodeTrackMessages(flow.id, requestId, batch.attributes, maxObjects) };
        }
        const kind = body.target;
        const target = (kind === 'campaign' ? body.campaign_id : body.canvas_id)!;
        const messages = batch.recipients.map((recipient) => {
          const message: TriggerMessage = { v: 1, flow: flow.id, requestId, kind, target, recipient };
          return { body: JSON.stringify(message), attributes: { flow: flow.id, kind } };
        });
        return { accepted, rejected: batch.rejected, messages, lane: 'braze-triggers' };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(odpFlows, build);
