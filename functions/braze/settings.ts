import * as z from 'zod/mini';
import { setting } from '../core/settings';

/** Braze's settings: read by the Braze delivery consumers and by every into-Braze ingress (message sizes). */
export const brazeSettings = z.object({
  /** REST endpoint of the Braze instance, e.g. https://rest.iad-01.braze.com. */
  BRAZE_REST_ENDPOINT: setting.optionalUrl(),
  /** Objects per /users/track call (attributes + events + purchases); Braze allows 75. */
  BRAZE_MAX_OBJECTS_PER_REQUEST: z._default(z.coerce.number().check(z.int(), z.positive(), z.maximum(75)), 75),
});
export type BrazeSettings = z.infer<typeof brazeSettings>;
