import { ConfigError } from '../core/errors';

/**
 * `prioritization` of a trigger recipient identified by `email` (Braze requires it: "If `email` is
 * the identifier, you must include `prioritization` in the recipients object",
 * braze-inc/braze-docs _docs/_api/endpoints/messaging/send_messages/post_send_triggered_campaigns.md
 * and post_send_triggered_canvases.md). Which profile an email names when several share it:
 * an ordered array of `identified` / `unidentified` (at most one of the two),
 * `most_recently_updated`, `least_recently_updated` (_docs/_api/endpoints/user_data/post_user_identify.md,
 * "Identifying users by email addresses and phone numbers").
 */
export const PRIORITIZATION_VALUES = ['identified', 'unidentified', 'most_recently_updated', 'least_recently_updated'] as const;
export type Prioritization = (typeof PRIORITIZATION_VALUES)[number];

/** SPEC section 5's default: a profile with an external id first, then the most recently updated. */
export const DEFAULT_EMAIL_PRIORITIZATION = '["identified","most_recently_updated"]';

/** A JSON array (`["identified","most_recently_updated"]`) or a comma list of the values above. */
export function parsePrioritization(text: string): Prioritization[] {
  const trimmed = text.trim();
  let values: unknown;
  if (trimmed.startsWith('[')) {
    try {
      values = JSON.parse(trimmed);
    } catch {
      throw new ConfigError('BRAZE_EMAIL_PRIORITIZATION: a JSON array must be valid JSON');
    }
  } else {
    values = trimmed
      .split(',')
      .map((value) => value.trim())
      .filter(Boolean);
  }
  if (!Array.isArray(values) || values.length === 0) throw new ConfigError('BRAZE_EMAIL_PRIORITIZATION: at least one value');
  for (const value of values) {
    if (!PRIORITIZATION_VALUES.includes(value as Prioritization))
      throw new ConfigError(`BRAZE_EMAIL_PRIORITIZATION: each value one of ${PRIORITIZATION_VALUES.join(', ')}`);
  }
  if (new Set(values).size !== values.length) throw new ConfigError('BRAZE_EMAIL_PRIORITIZATION: a value given twice');
  if (values.includes('identified') && values.includes('unidentified'))
    throw new ConfigError('BRAZE_EMAIL_PRIORITIZATION: identified and unidentified exclude each other');
  return values as Prioritization[];
}
