import * as z from 'zod/mini';
import { setting } from '../core/settings';
import { parseEventNames } from './transform';

/** An IANA time zone the runtime knows (`Europe/Paris`, `UTC`). */
const timeZone = z.string().check(
  z.refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'not an IANA time zone, e.g. UTC or America/New_York'),
);

/** Movable Ink's settings (SPEC sections 2 and 5), with their defaults. */
export const movableInkSettings = z.object({
  /** The full behavioural endpoint URL Movable Ink issues (its key included); unset locally means the sandbox. */
  MOVABLE_INK_API_URL: setting.optionalUrl(),
  /** JSON map, Braze event name -> Movable Ink event; unmapped names become snake_case. */
  MOVABLE_INK_EVENT_NAMES: setting.checkedText(parseEventNames, 'not a JSON object of Braze event name -> Movable Ink event name (strings)'),
  /** Comma list: events carrying external_id and email that become `identify`. */
  MOVABLE_INK_IDENTIFY_EVENTS: setting.text('Account Created'),
  /** true: events without external_id are counted as skipped and not sent. */
  MOVABLE_INK_KNOWN_USERS_ONLY: setting.boolean(false),
  /** Time zone sent when an event has no `time_zone`. */
  MOVABLE_INK_DEFAULT_TIMEZONE: z._default(timeZone, 'UTC'),
  /**
   * Consumer invocations at once (the SQS event source's maxConcurrency, 2-1000): Movable Ink
   * publishes no rate limit, so this starts small; raise it if Movable Ink agrees.
   */
  MOVABLE_INK_MAX_CONCURRENCY: z._default(z.coerce.number().check(z.int(), z.minimum(2), z.maximum(1000)), 2),
});
