import type { TrackItem } from '../core/braze';
import { ConfigError, ValidationError } from '../core/errors';
import { validate } from '../core/validation';
import { type SeenCallback, type SeenCampaignConfig, seenCampaignConfigSchema, type SeenQueueMessage, type SeenReceiver } from './schemas';

/** The seed's Data Transformation: these two callback fields, under the same names. */
export const DEFAULT_ATTRIBUTE_MAP: Readonly<Record<string, string>> = {
  landing_page_url: 'landing_page_url',
  email_thumbnail_url: 'email_thumbnail_url',
};

/** Parses SEEN_CAMPAIGNS (JSON); absent means the default mapping for every campaign. */
export function parseCampaignConfig(json: string | undefined): SeenCampaignConfig {
  if (!json) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new ConfigError('SEEN_CAMPAIGNS is not valid JSON', { cause });
  }
  try {
    return validate(seenCampaignConfigSchema, parsed, 'SEEN_CAMPAIGNS');
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : 'invalid SEEN_CAMPAIGNS', { cause: error });
  }
}

export function attributeMapFor(campaignSlug: string, config: SeenCampaignConfig): Readonly<Record<string, string>> {
  return config.campaigns?.[campaignSlug]?.attributes ?? config.default?.attributes ?? DEFAULT_ATTRIBUTE_MAP;
}

/**
 * SEEN "video ready" callback -> one /users/track attribute object keyed by braze_id, updating
 * existing users only. Every field the campaign maps must be present (400 naming it otherwise).
 */
export function callbackToTrackItems(callback: SeenCallback, config: SeenCampaignConfig): TrackItem[] {
  const map = attributeMapFor(callback.campaign_slug, config);
  const object: Record<string, unknown> = { braze_id: callback.customer_id, _update_existing_only: true };
  const missing: string[] = [];
  for (const [field, attribute] of Object.entries(map)) {
    const value = (callback as Record<string, unknown>)[field];
    if (value === undefined || value === null || value === '') missing.push(field);
    else object[attribute] = value;
  }
  if (missing.length > 0) {
    throw new ValidationError(
      `invalid request body: ${missing.join(', ')}`,
      missing.map((path) => ({ path, message: `required by the attribute mapping of campaign ${callback.campaign_slug}` })),
    );
  }
  return [{ kind: 'attributes', object }];
}

/**
 * Braze webhook receivers for one campaign -> queue messages of at most `maxPerCall` receivers,
 * so that each message fits one SEEN call and the drain can combine whole messages.
 */
export function receiversToMessages(campaign: string, receivers: readonly SeenReceiver[], maxPerCall: number, requestId: string): SeenQueueMessage[] {
  const messages: SeenQueueMessage[] = [];
  for (let i = 0; i < receivers.length; i += maxPerCall) {
    messages.push({ v: 1, flow: 'seen-receivers', requestId, campaign, receivers: receivers.slice(i, i + maxPerCall) });
  }
  return messages;
}
