import { brazeSettings } from '../braze/settings';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { ValidationError } from '../core/errors';
import { flowById } from '../core/flows';
import { createQueuedIngress } from '../core/ingress';
import { encodeTrackMessages, type TriggerMessage } from '../core/track-queue';
import { odpFlows } from './catalogue';
import { activationRequestSchema } from './schemas';
import { activationToBraze } from './transform';

export const FLOW_ID = 'odp-activation';
export { activationRequestSchema as requestSchema, activationRecordSchema as recordSchema } from './schemas';

/**
 * POST /optimizely/activation: ODP activation records -> Braze. `profile`: attributes on the
 * realtime /users/track lane; `campaign` / `canvas`: one queued recipient each on the
 * braze-triggers lane, combined there 50 per trigger call. A bad record is refused by index; an
 * unknown target or a campaign without campaign_id refuses the request, naming the field.
 */
export function build(deps: Deps) {
  const maxObjects = settingsOf(deps, brazeSettings).BRAZE_MAX_OBJECTS_PER_REQUEST;
  return createQueuedIngress(
    {
      flow: flowById(odpFlows, FLOW_ID),
      schema: activationRequestSchema,
      toMessages: ({ body, requestId }) => {
        const batch = activationToBraze(body);
        const accepted = batch.attributes.length + batch.recipients.length;
        if (accepted === 0) throw new ValidationError('invalid request body: no valid record in records', batch.rejected.flatMap((r) => r.issues));
        if (body.target === 'profile') {
          return { accepted, rejected: batch.rejected, messages: encodeTrackMessages(FLOW_ID, requestId, batch.attributes, maxObjects) };
        }
        const kind = body.target;
        const target = (kind === 'campaign' ? body.campaign_id : body.canvas_id)!;
        const messages = batch.recipients.map((recipient) => {
          const message: TriggerMessage = { v: 1, flow: FLOW_ID, requestId, kind, target, recipient };
          return { body: JSON.stringify(message), attributes: { flow: FLOW_ID, kind } };
        });
        return { accepted, rejected: batch.rejected, messages, lane: 'braze-triggers' };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
