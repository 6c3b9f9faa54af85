import type { DeliveryQueue } from '../core/catalogue-types';
import { createDeliveryConsumer, fedBy } from '../core/delivery-consumer';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { DestinationConfigError, PermanentDeliveryError, RetryableDeliveryError } from '../core/errors';
import { type HttpResponse, joinUrl } from '../core/http';
import { requireSecret } from '../core/secrets';
import { errorCodeOf, faultOfCode, readSendbirdAnswer, refusalsOf } from './answer';
import { sendbirdFlows, sendbirdQueues } from './catalogue';
import { type NotificationMessage, notificationMessageSchema } from './schemas';
import { sendbirdSettings } from './settings';
import { conflictingTarget, sendbirdBody } from './transform';

/**
 * Drains one Sendbird lane (the queue named by the function's flow: `sendbird-realtime` or
 * `sendbird-batch`) into `POST {SENDBIRD_API_URL}/v1/notifications` with the Api-Token from the
 * sendbird secret. Webhooks of one campaign (same group) are combined up to
 * SENDBIRD_MAX_TARGETS_PER_CALL targets, with per-user variables where theirs differ; messages stay
 * whole, so a failed call retries only its own webhooks, and a webhook whose id was delivered before
 * is not sent again. Sendbird's answers are read (answer.ts): an error inside a 2xx, or a 207, is
 * not a delivery for the targets it names (or the call); a 400 whose code is a key fault waits.
 */
export function build(deps: Deps, queue: DeliveryQueue) {
  const settings = settingsOf(deps, sendbirdSettings);
  const url = joinUrl(requireSetting(settings, 'SENDBIRD_API_URL'), 'v1/notifications');
  return createDeliveryConsumer(
    {
      queue,
      settings,
      schema: fedBy(notificationMessageSchema, sendbirdFlows, queue),
      weight: (message) => message.targets.length,
      group: (message) => message.group,
      dedupeKey: (message) => message.dedupe,
      send: async (messages, call) => {
        if (messages.length > 1 && conflictingTarget(messages) !== undefined) {
          // Two webhooks give one user different variables: one call cannot carry both. Refused before
          // anything is sent, so the core bisects it into calls that can (nothing is parked for it).
          throw new PermanentDeliveryError('sendbird: two messages of one call give a target different variables; splitting the call');
        }
        const token = await requireSecret(deps.secrets, 'sendbird', 'api_token');
        let response: HttpResponse;
        try {
          response = await call.http.send(
            { method: 'POST', url, headers: { 'api-token': token, 'content-type': 'application/json' }, body: sendbirdBody(messages) },
            { label: `sendbird ${messages[0]!.mode}`, deadline: call.deadline },
          );
        } catch (error) {
          throw readRefusal(error, messages);
        }
        const targets = messages.flatMap((message) => message.targets);
        return refusalsOf(messages, readSendbirdAnswer(response.status, response.text, targets), response.status);
      },
    },
    deps,
  );
}

/**
 * A 4xx Sendbird answered, read by its body's code: a key fault (403100 PermissionDenied with a
 * status of 400) is a configuration fault, a retryable code waits; other refusals stay refusals (the
 * core bisects a combined call and parks the one it refuses).
 */
function readRefusal(error: unknown, messages: readonly NotificationMessage[]): unknown {
  if (!(error instanceof PermanentDeliveryError) || error instanceof DestinationConfigError) return error;
  const code = errorCodeOf(error.responseText);
  if (code === undefined) return error;
  const said = `sendbird answered ${error.status ?? 'an error'} with error ${code}`;
  const fault = faultOfCode(code);
  if (fault === 'config') return new DestinationConfigError(said, error.status, { cause: error });
  if (fault === 'retryable') return new RetryableDeliveryError(said, error.status, { cause: error });
  // One message: refused with Sendbird's code in the place of the status, so its parked reason names it (sendbird_400111).
  return messages.length > 1 ? error : new PermanentDeliveryError(said, code, { cause: error });
}

export const handler = lazyHandler(sendbirdQueues, build);
