import { type Deps, lazyHandler } from '../core/deps';
import { ValidationError } from '../core/errors';
import { createQueuedIngress } from '../core/ingress';
import { encodeTrackMessages } from '../core/track-queue';
import { AUDIENCE_FIELD, audiencePayloadSchema } from './schemas';
import { mergeAudienceRecords, splitAudienceRecords } from './transform';

export const FLOW_ID = 'lytics-audiences';

/**
 * POST /lytics/audiences: a Lytics audience export (one record, or tens of thousands on a
 * backfill) -> one merged `lytics_segments` attribute object per user on the braze-track queue.
 * Malformed records are refused by index; the others are accepted (202 lists the refused ones).
 */
export function build(deps: Deps) {
  return createQueuedIngress(
    {
      flowId: FLOW_ID,
      owner: 'lytics',
      schema: audiencePayloadSchema,
      toMessages: ({ body, requestId }) => {
        const { valid, rejected } = splitAudienceRecords(body[AUDIENCE_FIELD]);
        if (valid.length === 0) {
          throw new ValidationError(`invalid request body: no valid record in ${AUDIENCE_FIELD}`, rejected.flatMap((r) => r.issues));
        }
        const items = mergeAudienceRecords(valid);
        return { accepted: valid.length, rejected, messages: encodeTrackMessages(FLOW_ID, requestId, items, deps.config.BRAZE_MAX_OBJECTS_PER_REQUEST) };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
