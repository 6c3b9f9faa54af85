import { brazeSettings } from '../braze/settings';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { flowById } from '../core/flows';
import { ValidationError } from '../core/errors';
import { createQueuedIngress } from '../core/ingress';
import { encodeTrackMessages } from '../core/track-queue';
import { lyticsFlows } from './catalogue';
import { AUDIENCE_FIELD, audiencePayloadSchema } from './schemas';
import { mergeAudienceRecords, splitAudienceRecords } from './transform';

export const FLOW_ID = 'lytics-audiences';
export { audiencePayloadSchema as requestSchema, audienceRecordSchema as recordSchema } from './schemas';

/**
 * POST /lytics/audiences: a Lytics audience export (one record, or tens of thousands on a
 * backfill) -> one merged `lytics_segments` attribute object per user on the braze-track queue.
 * Malformed records are refused by index; the others are accepted (202 lists the refused ones).
 */
export function build(deps: Deps) {
  const maxObjects = settingsOf(deps, brazeSettings).BRAZE_MAX_OBJECTS_PER_REQUEST;
  return createQueuedIngress(
    {
      flow: flowById(lyticsFlows, FLOW_ID),
      schema: audiencePayloadSchema,
      toMessages: ({ body, requestId }) => {
        const { valid, rejected } = splitAudienceRecords(body[AUDIENCE_FIELD]);
        if (valid.length === 0) {
          throw new ValidationError(`invalid request body: no valid record in ${AUDIENCE_FIELD}`, rejected.flatMap((r) => r.issues));
        }
        const items = mergeAudienceRecords(valid);
        return { accepted: valid.length, rejected, messages: encodeTrackMessages(FLOW_ID, requestId, items, maxObjects) };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
