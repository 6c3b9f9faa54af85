import { callsPerMessage } from '../braze/catalogue';
import { brazeSettings } from '../braze/settings';
import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { PayloadTooLargeError, ValidationError } from '../core/errors';
import { createQueuedIngress } from '../core/ingress';
import { encodeTrackMessages } from '../core/track-queue';
import { lyticsFlows } from './catalogue';
import { audiencePayloadSchema } from './schemas';
import { mergeAudienceRecords, splitAudienceBody } from './transform';

export { audienceItemSchema as recordSchema, audiencePayloadSchema as requestSchema } from './schemas';

/**
 * POST /lytics/audiences: a Lytics audience export as Lytics' webhook export job sends it (one
 * record, the seed's envelope, or an array of records or envelopes when the job batches; one record
 * or tens of thousands on a backfill) -> one merged `lytics_segments` attribute object per user on
 * the braze-track-bulk queue, named by the record's identifier. Malformed records are refused by
 * index; the others are accepted (202 lists the refused ones).
 */
export function build(deps: Deps, flow: IngressFlow) {
  const maxObjects = settingsOf(deps, brazeSettings).BRAZE_MAX_OBJECTS_PER_REQUEST;
  // Attribute objects only: on the bulk lane, several calls' worth a message (functions/braze/catalogue.ts).
  const perMessage = callsPerMessage(flow.queue);
  return createQueuedIngress(
    {
      flow,
      schema: audiencePayloadSchema,
      toMessages: ({ body, requestId }) => {
        const { valid, rejected, count } = splitAudienceBody(body);
        // An array of envelopes holds more records than its items: the route's record limit counts them all.
        if (count > flow.limits.maxRecords) {
          throw new PayloadTooLargeError(`${count} records in the body: this route takes at most ${flow.limits.maxRecords} per request (its record limit)`);
        }
        if (valid.length === 0)
          throw new ValidationError(
            'invalid request body: no valid record',
            rejected.flatMap((r) => r.issues),
          );
        const items = mergeAudienceRecords(valid);
        return { accepted: valid.length, rejected, messages: encodeTrackMessages(flow.id, requestId, items, maxObjects, undefined, perMessage) };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(lyticsFlows, build);
