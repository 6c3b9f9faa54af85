import * as z from 'zod/mini';
import type { DeliveryQueue } from '../core/catalogue-types';
import { createDeliveryConsumer, fedBy, type Refusal } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { PermanentDeliveryError } from '../core/errors';
import { joinUrl } from '../core/http';
import { requireSecret } from '../core/secrets';
import { lyticsFlows, lyticsQueues } from './catalogue';
import { type LyticsUsersMessage, lyticsUsersMessageSchema } from './schemas';
import { lyticsSettings } from './settings';

/**
 * What Lytics' collect API answers (Lytics API reference, Data Upload: `{"status": 200, "message":
 * "success", "data": {"message_count", "rejected_count", ...}}`); anything else in it is ignored.
 */
const collectAnswerSchema = z.object({
  data: z.optional(z.object({ message_count: z.optional(z.number()), rejected_count: z.optional(z.number()) })),
});

/** Rows Lytics says it rejected in a success answer (0 when it says nothing readable). */
export function rejectedCount(text: string): number {
  try {
    const answer = z.safeParse(collectAnswerSchema, JSON.parse(text));
    return answer.success ? Math.max(0, answer.data.data?.rejected_count ?? 0) : 0;
  } catch {
    return 0;
  }
}

/**
 * A 2xx of the collect API that rejected rows, in the delivery contract's words. Lytics counts the
 * rejected rows but does not say which: when the call held one message its rows are refused (parked,
 * `lytics_rejected`); when it combined several, PermanentDeliveryError has the core bisect it until
 * the refused one stands alone (the halves are sent again: a profile row sent twice sets the same
 * fields, the others are never parked for it).
 */
export function collectRefusals(messages: readonly LyticsUsersMessage[], text: string): Refusal<LyticsUsersMessage>[] {
  const rejected = rejectedCount(text);
  if (rejected === 0) return [];
  if (messages.length > 1) throw new PermanentDeliveryError(`lytics collect rejected ${rejected} of the call's rows`);
  return messages.map((message, bodyIndex) => ({ body: message, reason: 'lytics_rejected', records: message.events.length, bodyIndex }));
}

/**
 * Drains the lytics-users queue into Lytics' collect API, stream LYTICS_USERS_STREAM
 * (`braze_users`), up to LYTICS_MAX_EVENTS_PER_REQUEST profiles per call (the queue's limits in
 * the catalogue), as one JSON array: the form Lytics' own Android SDK posts to
 * `/collect/json/{stream}` (lytics/android-sdk, PayloadRequest.kt: "Builds a JSON array of all the
 * payloads"). The token travels in the Authorization header, never in the URL (the seed's `?key=`
 * form would put it in access logs). Rows Lytics says it rejected (`rejected_count`) are parked,
 * never counted delivered.
 */
export function build(deps: Deps, queue: DeliveryQueue) {
  const settings = settingsOf(deps, lyticsSettings);
  const url = joinUrl(requireSetting(settings, 'LYTICS_API_URL'), `collect/json/${encodeURIComponent(settings.LYTICS_USERS_STREAM)}`);

  return createDeliveryConsumer(
    {
      queue,
      settings,
      schema: fedBy(lyticsUsersMessageSchema, lyticsFlows, queue),
      weight: (message) => message.events.length,
      send: async (messages, call) => {
        const token = await requireSecret(deps.secrets, 'lytics', 'api_token');
        const response = await call.http.send(
          {
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json', authorization: token },
            body: JSON.stringify(messages.flatMap((message) => message.events)),
          },
          { label: 'lytics collect', deadline: call.deadline },
        );
        return collectRefusals(messages, response.text);
      },
    },
    deps,
  );
}

export const handler = lazyHandler(lyticsQueues, build);
