import type { Refusal } from '../core/delivery-consumer';
import { DestinationConfigError, PermanentDeliveryError, RetryableDeliveryError } from '../core/errors';
import { isJsonObject } from '../core/json-input';
import type { NotificationMessage } from './schemas';

/**
 * Sendbird's answers, read in the delivery contract's words (STYLE.md, "Delivery: say what a fault
 * means, once"). Sendbird reports errors inside its answers, whatever their status:
 * - Notifications API, Error codes (docs.sendbird.com/docs/notifications/v1/api/error-codes): "All
 *   errors return a 200, 400, or 500 HTTP response", as `{"error": true, "code": int, "message"}`;
 *   `207` is 207100 PartialSuccess ("part of the request failed"); a `400` carries 400111
 *   InvalidValue (too many targets), 403100 PermissionDenied ("the API token doesn't have permission
 *   to request this API") or 403101 ServiceDoesNotActivated ("Sendbird Notifications isn't turned on").
 * - Chat Platform API, Error codes (docs.sendbird.com/platform/error_codes, the page the Notifications
 *   one refers to): 400108 UnauthorizedRequest; rate limits (Chat Platform API, Rate limits) answer
 *   500910 RATE_LIMIT_EXCEEDED; Calls Platform API codes 401120/401121 (not allowed/authorized),
 *   429100 RATE_LIMIT_EXCEEDED, 500999 UNKNOWN_ERROR.
 * A code is the HTTP status it belongs to followed by three digits (403100: a 403), so the class of a
 * code no page lists is read from its first three digits.
 */
export type SendbirdFault = 'retryable' | 'config' | 'refused';

/** Codes outside the 401/403 families that still mean our key may not do this. */
const KEY_FAULT_CODES = new Set([400108]);

/** What a Sendbird error code means for the records of the call. */
export function faultOfCode(code: number | undefined): SendbirdFault {
  if (code === undefined || !Number.isInteger(code)) return 'refused';
  const family = Math.floor(code / 1000);
  if (family === 429 || (family >= 500 && family <= 599)) return 'retryable';
  if (family === 401 || family === 403 || KEY_FAULT_CODES.has(code)) return 'config';
  return 'refused';
}

export type SendbirdAnswer =
  | { kind: 'delivered' }
  | {
      kind: 'failed';
      /** Sendbird's error code (207100 for a 207 that gives none); undefined when the body has none. */
      code?: number;
      fault: SendbirdFault;
      /** A 207: part of the call was sent, so it must not be sent again as a whole. */
      partial: boolean;
      /** The call's targets the answer names under a failure key (none: the whole call failed). */
      failedTargets: string[];
    };

/**
 * Keys under which an answer may list the targets that failed. Sendbird documents no body for a 207
 * or an error naming targets (an open question in docs/partners.md): any of the call's targets found under
 * such a key is read as failed, and an answer naming none fails the whole call.
 */
const FAILURE_KEY = /fail|error|invalid|reject|unsent/i;
const MAX_WALK_DEPTH = 6;

/** The call's targets named (as a string value, at any depth) under a failure key of the answer. */
function namedTargets(body: unknown, targets: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, underFailure: boolean, depth: number): void => {
    if (depth > MAX_WALK_DEPTH) return;
    if (typeof value === 'string') {
      if (underFailure && targets.has(value)) found.add(value);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, underFailure, depth + 1);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        // A failure list keyed by user id ({"failed": {"u1": {...}}}) names its targets by key.
        if (underFailure && targets.has(key)) found.add(key);
        walk(item, underFailure || FAILURE_KEY.test(key), depth + 1);
      }
    }
  };
  walk(body, false, 0);
  return [...found];
}

/**
 * Reads a 2xx answer of Sendbird for a call to `targets`: `"error": true` in the body, or a 207, is
 * a failure, of the targets it names or else of the whole call. Any other 2xx is a delivery.
 */
export function readSendbirdAnswer(status: number, text: string, targets: readonly string[]): SendbirdAnswer {
  let body: unknown;
  try {
    body = text.trim() === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fields = isJsonObject(body) ? body : {};
  const flagged = fields.error === true;
  if (!flagged && status !== 207) return { kind: 'delivered' };
  const given = typeof fields.code === 'number' ? fields.code : undefined;
  const code = given ?? (status === 207 ? 207100 : undefined);
  return { kind: 'failed', code, fault: faultOfCode(code), partial: status === 207, failedTargets: namedTargets(body, new Set(targets)) };
}

/** The code of a Sendbird error body (a 4xx answer's text), if it has one. */
export function errorCodeOf(text: string | undefined): number | undefined {
  if (!text) return undefined;
  try {
    const body = JSON.parse(text) as unknown;
    const code = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).code : undefined;
    return typeof code === 'number' ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a failed answer means for the messages of the call, in the delivery contract's words:
 * - it names only some of the call's targets: those are refused (parked, one body per message with
 *   only its failed targets, whatever the code: sending the call again would notify the others
 *   twice; a redrive sends them), the rest are delivered;
 * - otherwise the whole call failed: a retryable code throws RetryableDeliveryError (the call waits
 *   and is sent again), a key code DestinationConfigError (nothing parked, alarm), and a refusal
 *   parks the call's messages, except when Sendbird sent none of it (no 207) and the call combined
 *   several messages: then PermanentDeliveryError lets the core bisect it down to the refused one.
 */
export function refusalsOf(messages: readonly NotificationMessage[], answer: SendbirdAnswer, status: number): Refusal<NotificationMessage>[] {
  if (answer.kind === 'delivered') return [];
  const said = `sendbird answered ${status} with error ${answer.code ?? '(no code)'}`;
  const reason = `sendbird_${answer.code ?? status}`;
  const named = new Set(answer.failedTargets);
  const wholeCall = named.size === 0 || messages.every((message) => message.targets.every((target) => named.has(target)));
  if (wholeCall) {
    if (answer.fault === 'retryable') throw new RetryableDeliveryError(said, status);
    if (answer.fault === 'config') throw new DestinationConfigError(said, status);
    if (!answer.partial && messages.length > 1) throw new PermanentDeliveryError(said, status);
    return messages.map((message, bodyIndex) => ({ body: message, reason, records: message.targets.length, bodyIndex }));
  }
  return messages.flatMap((message, bodyIndex) => {
    const failed = message.targets.filter((target) => named.has(target));
    return failed.length === 0 ? [] : [{ body: { ...message, targets: failed }, reason, records: failed.length, bodyIndex }];
  });
}
