/** Event times as senders write them, read the same way by every flow. */

/**
 * Epoch numbers below this are seconds, at or above it milliseconds: 1e11 seconds is the year
 * 5138, 1e11 milliseconds is March 1973, so no real event time is ambiguous.
 */
export const EPOCH_MS_THRESHOLD = 1e11;

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Epoch milliseconds of an event time: ISO 8601 with any offset (no offset: UTC), or epoch seconds
 * or milliseconds as a number or a string of digits (told apart by size, see EPOCH_MS_THRESHOLD);
 * undefined means now. Returns a message instead for a time that is none of these.
 */
export function eventTimeMs(time: string | number | undefined, now: number): number | string {
  if (time === undefined) return now;
  if (typeof time === 'number' || /^\d+(\.\d+)?$/.test(time)) {
    const numeric = Number(time);
    if (!Number.isFinite(numeric) || numeric <= 0) return 'not a positive epoch time';
    return Math.round(numeric < EPOCH_MS_THRESHOLD ? numeric * 1000 : numeric);
  }
  const iso = ISO_DATE_TIME.exec(time);
  if (!iso) return 'not ISO 8601, epoch seconds or epoch milliseconds';
  const [year, month, day] = time.slice(0, 10).split('-').map(Number) as [number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return 'not a valid date';
  const hasTime = /[T ]\d{2}:\d{2}/i.test(time);
  const withZone = iso[1] ? time : hasTime ? `${time}Z` : `${time}T00:00:00Z`;
  const normalised = withZone
    .replace(' ', 'T')
    .replace(/([+-]\d{2})(\d{2})$/, '$1:$2')
    .replace(/([+-]\d{2})$/, '$1:00');
  const parsed = Date.parse(normalised);
  return Number.isNaN(parsed) ? 'not a valid date' : parsed;
}
