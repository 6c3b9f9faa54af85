import { type Deps, lazyHandler, requireSetting } from '../core/deps';
import { ValidationError } from '../core/errors';
import { createIngressHandler } from '../core/ingress';
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
  const { config } = deps;
  const queueUrl = requireSetting(config, 'QUEUE_URL');
  return createIngressHandler(
    {
      flowId: FLOW_ID,
      owner: 'lytics',
      schema: audiencePayloadSchema,
      maxBodyBytes: config.MAX_BODY_BYTES,
      handle: async ({ body, requestId }) => {
        const { valid, rejected } = splitAudienceRecords(body[AUDIENCE_FIELD]);
        if (valid.length === 0) {
          throw new ValidationError(
            `invalid request body: no valid record in ${AUDIENCE_FIELD}`,
            rejected.flatMap((r) => r.issues),
          );
        }
        const items = mergeAudienceRecords(valid);
        await deps.queue.sendAll(queueUrl, encodeTrackMessages(FLOW_ID, requestId, items, config.BRAZE_MAX_OBJECTS_PER_REQUEST));
        deps.logger.info('audience records merged', { records: valid.length, users: items.length, rejected: rejected.length });
        return { accepted: valid.length, rejected };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(FLOW_ID, build);
