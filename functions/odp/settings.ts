import * as z from 'zod/mini';
import { setting } from '../core/settings';
import { parseFieldMappings, parseSegmentSelection } from './segment-selection';

/** Optimizely Data Platform's settings (SPEC sections 2 and 5), with their defaults. */
export const odpSettings = z.object({
  /** ODP REST API base, e.g. https://api.zaius.com (US) or https://api.eu1.odp.optimizely.com; unset locally means the sandbox. */
  ODP_API_URL: setting.optionalUrl(),
  /** Objects per ODP call (ODP takes up to 500). */
  ODP_MAX_OBJECTS_PER_REQUEST: z._default(z.coerce.number().check(z.int(), z.positive(), z.maximum(500)), 500),
  /**
   * Braze segments the nightly sync exports: `all`, or ids and names separated by commas (or a JSON
   * array of them, for names holding a comma). A name or id Braze does not list selects nothing.
   */
  ODP_SEGMENTS: setting.checkedTextOr(parseSegmentSelection, 'all, or segment ids and names separated by commas, or a JSON array of them', 'all'),
  /**
   * Extra fields mapped from a Braze export line to an ODP profile, as a JSON object
   * `{"<braze field>": "<odp field>"}`; a dotted name reads inside an object
   * (`custom_attributes.loyalty_tier`). Added to the default map (email -> ODP email).
   */
  ODP_FIELD_MAPPINGS: setting.checkedText(parseFieldMappings, 'a JSON object {"<braze field>": "<odp field>"}, names of letters, digits, _ and . only'),
  /** EventBridge schedule expression of the segment sync (default: every night at 02:00 UTC). */
  ODP_SYNC_SCHEDULE: setting.text('cron(0 2 * * ? *)', /^(cron|rate)\(.+\)$/, 'an EventBridge schedule expression: cron(...) or rate(...)'),
  /** Seconds between two checks of whether Braze's export is ready. */
  ODP_EXPORT_POLL_SECONDS: setting.positiveSeconds(60),
  /** Minutes to wait for one segment's export before the run fails, naming the segment. */
  ODP_EXPORT_MAX_WAIT_MINUTES: setting.positiveSeconds(180),
  /** /v3/profiles calls per second (ODP allows 10). */
  ODP_PROFILE_CALLS_PER_SECOND: z._default(z.coerce.number().check(z.positive(), z.maximum(100)), 10),
});
export type OdpSettings = z.infer<typeof odpSettings>;

