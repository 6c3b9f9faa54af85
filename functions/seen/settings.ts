import * as z from 'zod/mini';
import { setting } from '../core/settings';
import { parseCampaignConfig } from './transform';

const campaignsJson = setting.checkedText(
  parseCampaignConfig,
  'not a valid SEEN campaign mapping: JSON {"default"?: {"attributes": {field: attribute}}, "campaigns"?: {slug: {"attributes": {...}}}} with attribute names of letters, digits and _',
);

/** SEEN's settings (SPEC section 5), with their defaults. */
export const seenSettings = z.object({
  /** SEEN API base URL; unset locally means the sandbox. */
  SEEN_API_URL: setting.optionalUrl(),
  /** SEEN allows 1,000 calls per hour. */
  SEEN_MAX_CALLS_PER_HOUR: setting.positiveInt(1000),
  /** Length of the budget window; an hour, shortened only by tests. */
  SEEN_BUDGET_WINDOW_SECONDS: setting.positiveSeconds(3600),
  /** How often the drain runs (an EventBridge rate in AWS: whole minutes; a timer locally). */
  SEEN_DRAIN_INTERVAL_SECONDS: setting.positiveSeconds(60),
  /** Receivers per SEEN call. */
  SEEN_MAX_RECEIVERS_PER_CALL: setting.positiveInt(100),
  /** JSON: per campaign_slug, which callback fields become which Braze attributes (see README). */
  SEEN_CAMPAIGNS: campaignsJson,
});
export type SeenSettings = z.infer<typeof seenSettings>;
