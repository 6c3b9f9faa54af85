import * as z from 'zod/mini';
import { setting } from '../core/settings';

/** Optimizely Data Platform's settings (SPEC sections 2 and 5), with their defaults. */
export const odpSettings = z.object({
  /** ODP REST API base, e.g. https://api.zaius.com (US) or https://api.eu1.odp.optimizely.com; unset locally means the sandbox. */
  ODP_API_URL: setting.optionalUrl(),
  /** Objects per ODP call (ODP takes up to 500). */
  ODP_MAX_OBJECTS_PER_REQUEST: z._default(z.coerce.number().check(z.int(), z.positive(), z.maximum(500)), 500),
});
export type OdpSettings = z.infer<typeof odpSettings>;
