import { createHmac } from 'node:crypto';
import { brazeSettings } from '../braze/settings';
import { safeEqual } from '../core/auth';
import type { IngressFlow } from '../core/catalogue-types';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { ValidationError } from '../core/errors';
import { createQueuedIngress, type SignatureVerifier } from '../core/ingress';
import { encodeTrackMessages } from '../core/track-queue';
import { sendbirdFlows } from './catalogue';
import { statusRequestSchema } from './schemas';
import { sendbirdSettings } from './settings';
import { statusesToTrackItems } from './transform';

export { statusRecordSchema as recordSchema, statusRequestSchema as requestSchema } from './schemas';

/** The header verifySendbirdSignature reads, for the OpenAPI document (local/openapi.ts). */
export const signatureHeader = {
  name: 'x-sendbird-signature',
  description:
    "Hex HMAC-SHA256 of the raw request body, keyed with the partner's API token (Sendbird's, the sendbird secret's api_token; SENDBIRD_API_TOKEN locally).",
} as const;
/** `x-sendbird-signature`: hex HMAC-SHA256 of the raw body, keyed with the Sendbird API token; compared in constant time. */
export const verifySendbirdSignature: SignatureVerifier = async (rawBytes, headers, secrets) => {
  const given = headers[signatureHeader.name];
  if (!given) return false;
  const key = (await secrets.get('sendbird')).api_token;
  if (!key) return false;
  return safeEqual(given.trim().toLowerCase(), createHmac('sha256', key).update(rawBytes).digest('hex'));
};

/**
 * POST /sendbird/status: SENT / READ statuses -> Braze custom events on the realtime lane, one
 * message per status carrying its dedupe id (user, notification, status), so the same status
 * arriving again within two days creates no second event.
 */
export function build(deps: Deps, flow: IngressFlow) {
  const eventName = settingsOf(deps, sendbirdSettings).SENDBIRD_STATUS_EVENT_NAME;
  const maxObjects = settingsOf(deps, brazeSettings).BRAZE_MAX_OBJECTS_PER_REQUEST;
  return createQueuedIngress(
    {
      flow,
      schema: statusRequestSchema,
      verifySignature: verifySendbirdSignature,
      toMessages: ({ body, requestId }) => {
        const records = Array.isArray(body) ? body : [body];
        const { items, rejected } = statusesToTrackItems(records, { eventName, now: deps.clock.now() });
        if (items.length === 0)
          throw new ValidationError(
            'invalid request body: no valid status',
            rejected.flatMap((r) => r.issues),
          );
        const messages = items.flatMap(({ item, dedupe }) => encodeTrackMessages(flow.id, requestId, [item], maxObjects, dedupe));
        return { accepted: items.length, rejected, messages };
      },
    },
    deps,
  );
}

export const handler = lazyHandler(sendbirdFlows, build);
