import * as z from 'zod/mini';
import type { TrackItem } from '../core/braze';
import { ConfigError, type FieldIssue, ValidationError } from '../core/errors';
import { joinUrl } from '../core/http';
import { formatPath, validate } from '../core/validation';
import {
  type SeenCallback,
  type SeenCampaignConfig,
  type SeenDataMessage,
  type SeenProjects,
  type SeenQueueMessage,
  seenCampaignConfigSchema,
  seenDataReceiverSchema,
  seenProjectsSchema,
  seenReceiverSchema,
} from './schemas';

/** SEEN_API_VERSION: 1, the legacy receivers API of the seed; 2, SEEN API 2.0. */
export type SeenApiVersion = 1 | 2;

/** The seed's Data Transformation: these two callback fields, under the same names. */
export const DEFAULT_ATTRIBUTE_MAP: Readonly<Record<string, string>> = {
  landing_page_url: 'landing_page_url',
  email_thumbnail_url: 'email_thumbnail_url',
};

/**
 * SEEN API 2.0: what Braze's SEEN page has the Journey's webhook node send back (its outputs
 * "Player link" and "Email thumbnail link"), under the same names.
 */
const DATA_ATTRIBUTE_MAP: Readonly<Record<string, string>> = {
  player_url: 'player_url',
  email_thumbnail_url: 'email_thumbnail_url',
};

/** Parses SEEN_CAMPAIGNS (JSON); absent means the default mapping for every campaign. */
export function parseCampaignConfig(json: string | undefined): SeenCampaignConfig {
  if (!json) return {};
  return parseJsonSetting('SEEN_CAMPAIGNS', json, seenCampaignConfigSchema);
}

/** Parses SEEN_PROJECTS (JSON: campaign slug -> data endpoint URL); absent is undefined. */
export function parseProjects(json: string | undefined): SeenProjects | undefined {
  if (!json) return undefined;
  return parseJsonSetting('SEEN_PROJECTS', json, seenProjectsSchema);
}

function parseJsonSetting<S extends z.ZodMiniType>(name: string, json: string, schema: S): z.infer<S> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new ConfigError(`${name} is not valid JSON`, { cause });
  }
  try {
    return validate(schema, parsed, name);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : `invalid ${name}`, { cause: error });
  }
}

/**
 * Parses SEEN_ALLOWED_URL_HOSTS: a comma list of hosts (`player.seen.io`) or wildcards of their
 * subdomains (`*.seen.io`), lower-cased; absent or blank is undefined (any host).
 */
export function parseAllowedHosts(list: string | undefined): readonly string[] | undefined {
  if (list === undefined || list.trim() === '') return undefined;
  const hosts = list.split(',').map((entry) => entry.trim().toLowerCase());
  for (const host of hosts) {
    if (!/^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(host)) {
      throw new ConfigError(`SEEN_ALLOWED_URL_HOSTS: ${JSON.stringify(host)} is not a host name or a *.domain wildcard`);
    }
  }
  return hosts;
}

/** Whether `host` is one of `allowed` (`*.seen.io` takes any subdomain of seen.io, not seen.io itself). */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase();
  return allowed.some((entry) => (entry.startsWith('*.') ? name.endsWith(entry.slice(1)) && name.length > entry.length - 1 : name === entry));
}

/** `https:`, `javascript:`, `localhost:8080`: what a link would be opened with. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Why a callback value may not become a link in a Braze message, if it may not (SPEC section 2,
 * seen): a URL with a scheme must be https; SEEN's own example has none (`your.subdomain.com/v/12345`)
 * and is kept as sent. With SEEN_ALLOWED_URL_HOSTS set, its host must be one of them.
 */
function urlRefusal(value: string, allowedHosts: readonly string[] | undefined): string | undefined {
  const hasScheme = SCHEME.test(value);
  if (hasScheme && !/^https:\/\//i.test(value)) return 'a link must be https';
  if (!allowedHosts) return undefined;
  let host: string;
  try {
    host = new URL(hasScheme ? value : `https://${value}`).hostname;
  } catch {
    return 'not a URL';
  }
  return hostAllowed(host, allowedHosts) ? undefined : 'its host is not in SEEN_ALLOWED_URL_HOSTS';
}

/** A callback field that becomes a link: named `..._url`, or holding a value with a scheme. */
const isUrlField = (field: string, value: unknown) => typeof value === 'string' && (field.endsWith('_url') || SCHEME.test(value));

export interface CallbackOptions {
  version?: SeenApiVersion;
  /** SEEN_ALLOWED_URL_HOSTS, parsed; undefined: any https host. */
  allowedHosts?: readonly string[];
}

function attributeMapFor(campaignSlug: string | undefined, config: SeenCampaignConfig, version: SeenApiVersion = 1): Readonly<Record<string, string>> {
  const own = campaignSlug === undefined ? undefined : config.campaigns?.[campaignSlug]?.attributes;
  return own ?? config.default?.attributes ?? (version === 2 ? DATA_ATTRIBUTE_MAP : DEFAULT_ATTRIBUTE_MAP);
}

/**
 * SEEN "video ready" callback -> one /users/track attribute object keyed by braze_id (`customer_id`,
 * or `id` as a 2.0 webhook node sends it), updating existing users only. Every field the campaign
 * maps must be present, and a link must be https on an allowed host (400 naming it otherwise).
 */
export function callbackToTrackItems(callback: SeenCallback, config: SeenCampaignConfig, options: CallbackOptions = {}): TrackItem[] {
  const map = attributeMapFor(callback.campaign_slug, config, options.version);
  const brazeId = callback.customer_id ?? callback.id;
  const object: Record<string, unknown> = { braze_id: brazeId, _update_existing_only: true };
  const issues: FieldIssue[] = [];
  const mapping = callback.campaign_slug === undefined ? 'the default attribute mapping' : `the attribute mapping of campaign ${callback.campaign_slug}`;
  for (const [field, attribute] of Object.entries(map)) {
    const value = (callback as Record<string, unknown>)[field];
    if (value === undefined || value === null || value === '') {
      issues.push({ path: field, message: `required by ${mapping}` });
      continue;
    }
    const refusal = isUrlField(field, value) ? urlRefusal(value as string, options.allowedHosts) : undefined;
    if (refusal) issues.push({ path: field, message: refusal });
    else object[attribute] = value;
  }
  if (issues.length > 0) throw new ValidationError(`invalid request body: ${issues.map((issue) => issue.path).join(', ')}`, issues);
  return [{ kind: 'attributes', object }];
}

/** Where a campaign's 2.0 data items go, and where the OAuth2 token comes from. */
export interface SeenProjectEndpoint {
  dataUrl: string;
  tokenUrl: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The data endpoint of a campaign's SEEN 2.0 project: SEEN_PROJECTS' URL for its slug; none (the
 * slug is refused) when the map leaves it out. With SEEN_PROJECTS unset and SEEN_API_URL on this
 * machine (npm start's sandbox, or a stub a test starts), every slug is a project of its own,
 * `{SEEN_API_URL}/v1/projects/{slug}/data`, so the 2.0 flow can be tried with no account; in AWS
 * SEEN_API_URL is never a loopback address, so an unset map refuses every slug.
 * The token URL: SEEN_OAUTH_TOKEN_URL, else the data URL's origin + `/oauth2/token` (SEEN's
 * `https://next.seen.io/oauth2/token`), else beside the sandbox's projects.
 */
export function projectEndpoint(campaign: string, settings: { projects?: SeenProjects; apiUrl?: string; tokenUrl?: string }): SeenProjectEndpoint | undefined {
  if (settings.projects) {
    const dataUrl = settings.projects[campaign];
    if (dataUrl === undefined) return undefined;
    return { dataUrl, tokenUrl: settings.tokenUrl ?? new URL('/oauth2/token', dataUrl).toString() };
  }
  const api = settings.apiUrl === undefined ? undefined : new URL(settings.apiUrl);
  if (!api || !LOOPBACK.has(api.hostname)) return undefined;
  return {
    dataUrl: joinUrl(settings.apiUrl!, `v1/projects/${encodeURIComponent(campaign)}/data`),
    tokenUrl: settings.tokenUrl ?? joinUrl(settings.apiUrl!, 'oauth2/token'),
  };
}

/** What a receivers request becomes: one queue message per receiver accepted, and those refused by index. */
export interface ReceiversBatch {
  legacy: SeenQueueMessage[];
  data: SeenDataMessage[];
  rejected: { index: number; issues: FieldIssue[] }[];
}

/**
 * Braze webhook receivers for one campaign -> one queue message per receiver, each checked on its
 * own: a receiver SEEN would refuse is refused by index (its issues named `[i].field`, or `field`
 * for a body that is one receiver), the others go on. Legacy (version 1): the receiver as SEEN's
 * receivers API takes it, on the `seen-receivers` queue, whose drain combines a campaign's
 * messages; a call SEEN refuses is then bisected down to the refused receiver, which parks alone.
 * SEEN 2.0 (version 2): one data item per receiver, `id` (or `customer_id`, which it replaces) as
 * a string, the other fields as sent, on the `seen-data` queue.
 */
export function receiversToMessages(body: unknown, options: { version: SeenApiVersion; campaign: string; requestId: string }): ReceiversBatch {
  const batch: ReceiversBatch = { legacy: [], data: [], rejected: [] };
  const list = Array.isArray(body);
  const records: unknown[] = list ? body : [body];
  const { campaign, requestId } = options;
  for (const [index, record] of records.entries()) {
    const refuse = (issues: readonly { path: readonly PropertyKey[]; message: string }[]) =>
      batch.rejected.push({ index, issues: issues.map((issue) => ({ path: formatPath(list ? [index, ...issue.path] : issue.path), message: issue.message })) });
    if (options.version === 2) {
      const parsed = z.safeParse(seenDataReceiverSchema, record);
      if (!parsed.success) {
        refuse(parsed.error.issues);
        continue;
      }
      const { id, customer_id: customerId, ...fields } = parsed.data;
      // `customer_id` names the id only when `id` is absent; beside an `id` it is one more field, as sent.
      const sentCustomerId = (record as Record<string, unknown>).customer_id;
      const item = id === undefined ? { ...fields, id: customerId! } : { ...fields, ...(customerId !== undefined ? { customer_id: sentCustomerId } : {}), id };
      batch.data.push({ v: 1, flow: 'seen-receivers', api: 2, requestId, campaign, item });
      continue;
    }
    const parsed = z.safeParse(seenReceiverSchema, record);
    if (!parsed.success) {
      refuse(parsed.error.issues);
      continue;
    }
    batch.legacy.push({ v: 1, flow: 'seen-receivers', requestId, campaign, receivers: [parsed.data] });
  }
  return batch;
}
