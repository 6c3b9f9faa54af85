import * as z from 'zod/mini';
import type { DeliveryQueue } from '../core/catalogue-types';
import { createDeliveryConsumer, fedBy, type Refusal } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { PermanentDeliveryError } from '../core/errors';
import { joinUrl } from '../core/http';
import { requireSecret } from '../core/secrets';
import { odpFlows, odpQueues } from './catalogue';
import { type OdpEventMessage, odpEventMessageSchema } from './schemas';
import { odpSettings } from './settings';

/** The reason an event ODP named as invalid is parked with. */
export const INVALID_EVENT_REASON = 'odp_invalid_event';

/**
 * Calls one batch may take when ODP names invalid events: the first, and one without the events
 * each refusal named. A further refusal is left to the core (it bisects).
 */
const MAX_CALLS_NAMING_INVALIDS = 3;

/**
 * ODP's 400 for a batch of events: `{title, status, timestamp, detail: {invalids: [{event, message}]}}`,
 * `event` the index of the refused event in the array posted (ZaiusInc/node-sdk
 * src/Api/lib/ApiV3.ts, V3ErrorResponse / V3InvalidEventDetail).
 */
const invalidEventsAnswer = z.looseObject({
  detail: z.looseObject({
    invalids: z.array(z.looseObject({ event: z.number().check(z.int(), z.nonnegative()) })).check(z.minLength(1)),
  }),
});

/**
 * The indexes of the events ODP's 400 names as invalid, in a call of `count` events; undefined
 * when the error is not such a 400 or names an event the call did not hold (the core then bisects).
 */
export function invalidEventIndexes(error: unknown, count: number): number[] | undefined {
  if (!(error instanceof PermanentDeliveryError) || error.status !== 400 || !error.responseText) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(error.responseText);
  } catch {
    return undefined;
  }
  const answer = z.safeParse(invalidEventsAnswer, parsed);
  if (!answer.success) return undefined;
  const indexes = [...new Set(answer.data.detail.invalids.map((invalid) => invalid.event))];
  return indexes.every((index) => index < count) ? indexes.sort((a, b) => a - b) : undefined;
}

/**
 * Drains odp-events into `POST {ODP_API_URL}/v3/events` (x-api-key from the odp secret), up to
 * ODP_MAX_OBJECTS_PER_REQUEST events per call. When ODP refuses a call (400) naming the invalid
 * events (`detail.invalids`), only those are parked (`odp_invalid_event`) and the others are sent
 * again at once without them: one bad event of 500 costs one more call, not a bisection. A 400
 * that names none is bisected by the core until only the refused events remain. An event id
 * already delivered (Currents resends whole batches) is not sent again.
 */
export function build(deps: Deps, queue: DeliveryQueue) {
  const settings = settingsOf(deps, odpSettings);
  const url = joinUrl(requireSetting(settings, 'ODP_API_URL'), 'v3/events');
  return createDeliveryConsumer(
    {
      queue,
      settings,
      schema: fedBy(odpEventMessageSchema, odpFlows, queue),
      weight: () => 1,
      dedupeKey: (message) => message.dedupe,
      send: async (messages, call) => {
        const key = await requireSecret(deps.secrets, 'odp', 'api_key');
        const refusals: Refusal<OdpEventMessage>[] = [];
        let pending = messages.map((message, bodyIndex) => ({ message, bodyIndex }));
        for (let calls = 1; pending.length > 0; calls++) {
          try {
            await call.http.send(
              {
                method: 'POST',
                url,
                headers: { 'x-api-key': key, 'content-type': 'application/json' },
                body: JSON.stringify(pending.map(({ message }) => message.event)),
              },
              { label: 'odp /v3/events', deadline: call.deadline },
            );
            break;
          } catch (error) {
            const invalid = calls < MAX_CALLS_NAMING_INVALIDS ? invalidEventIndexes(error, pending.length) : undefined;
            if (!invalid) throw error;
            deps.logger.warn('odp refused events by index: parking them, sending the others again', { refused: invalid.length, of: pending.length });
            const named = new Set(invalid);
            for (const index of invalid) {
              const { message, bodyIndex } = pending[index]!;
              refusals.push({ body: message, reason: INVALID_EVENT_REASON, records: 1, bodyIndex });
            }
            pending = pending.filter((_, index) => !named.has(index));
          }
        }
        return refusals;
      },
    },
    deps,
  );
}

export const handler = lazyHandler(odpQueues, build);
