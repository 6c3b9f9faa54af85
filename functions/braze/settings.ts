import * as z from 'zod/mini';
import { setting } from '../core/settings';
import { BRAZE_MAX_OBJECTS_PER_TRACK } from './limits';
import { DEFAULT_EMAIL_PRIORITIZATION, PRIORITIZATION_VALUES, parsePrioritization } from './prioritization';

/** Braze's settings: read by the Braze delivery consumers and by every into-Braze ingress (message sizes). */
export const brazeSettings = z.object({
  /** REST endpoint of the Braze instance, e.g. https://rest.iad-01.braze.com. */
  BRAZE_REST_ENDPOINT: setting.optionalUrl(),
  /**
   * Objects per /users/track call (attributes + events + purchases); Braze allows 75 (BRAZE_MAX_OBJECTS_PER_TRACK, limits.ts), and 50 to
   * customers who bought "Monthly Active Users CY 24-25" (Universal, Web or Mobile MAU): "Each
   * request may batch up to 50 updates combined across attribute, event, or purchase objects"
   * (braze-inc/braze-docs _docs/_api/endpoints/user_data/post_user_track.md). Set 50 on such a contract.
   */
  BRAZE_MAX_OBJECTS_PER_REQUEST: z._default(
    z.coerce.number().check(z.int(), z.positive(), z.maximum(BRAZE_MAX_OBJECTS_PER_TRACK)),
    BRAZE_MAX_OBJECTS_PER_TRACK,
  ),
  /**
   * `prioritization` of email-only trigger recipients (which profile an email names when several
   * share it): a JSON array or a comma list of identified | unidentified, most_recently_updated,
   * least_recently_updated. Braze requires it with `email`.
   */
  BRAZE_EMAIL_PRIORITIZATION: setting.checkedTextOr(
    parsePrioritization,
    `a JSON array (or comma list) of ${PRIORITIZATION_VALUES.join(', ')}; identified and unidentified exclude each other`,
    DEFAULT_EMAIL_PRIORITIZATION,
  ),
});
