import * as z from 'zod/mini';
import { setting } from '../core/settings';
import { parseAllowedHosts, parseCampaignConfig, parseProjects } from './transform';

const campaignsJson = setting.checkedText(
  parseCampaignConfig,
  'not a valid SEEN campaign mapping: JSON {"default"?: {"attributes": {field: attribute}}, "campaigns"?: ' +
    '{slug: {"attributes": {...}}}} with attribute names of letters, digits and _',
);

const projectsJson = setting.checkedText(
  parseProjects,
  'not a valid SEEN project map: JSON {"<campaign_slug>": "<the project\'s data endpoint URL, from SEEN\'s ' +
    'Run tab>"} with slugs of letters, digits, - or _ and https URLs',
);

const allowedHosts = setting.checkedText(parseAllowedHosts, 'not a comma list of host names or *.domain wildcards, e.g. player.seen.io,*.seen.io');

/** SEEN's settings (SPEC sections 2 and 5), with their defaults. */
export const seenSettings = z.object({
  /** 1: the legacy receivers API of the seed (api.seen.io, Token auth); 2: SEEN API 2.0 (a project's data URL, Bearer or OAuth2). */
  SEEN_API_VERSION: z._default(
    z.pipe(
      z.enum(['1', '2']),
      z.transform((value) => (value === '2' ? 2 : 1) as 1 | 2),
    ),
    1,
  ),
  /** SEEN API base URL (legacy receivers API); unset locally means the sandbox. */
  SEEN_API_URL: setting.optionalUrl(),
  /** SEEN API 2.0: JSON, campaign slug -> its project's data endpoint URL (SEEN's Run tab). */
  SEEN_PROJECTS: projectsJson,
  /** SEEN API 2.0 OAuth2 token endpoint; default: the data URL's origin + /oauth2/token. */
  SEEN_OAUTH_TOKEN_URL: setting.optionalUrl(),
  /** SEEN API 2.0 accepts up to 100 requests per 10 seconds; at least 2 (the consumer's two lanes, rate.ts). */
  SEEN_MAX_REQUESTS_PER_10S: z._default(z.coerce.number().check(z.int(), z.gte(2, 'at least 2: the SEEN 2.0 consumer runs up to 2 invocations at once')), 100),
  /** The legacy API allows 1,000 calls per hour; any positive budget works (under one call per drain run, runs carry the fraction). */
  SEEN_MAX_CALLS_PER_HOUR: setting.positiveInt(1000),
  /** Length of the budget window; an hour, shortened only by tests. */
  SEEN_BUDGET_WINDOW_SECONDS: setting.positiveSeconds(3600),
  /** How often the legacy drain runs (an EventBridge rate in AWS: whole minutes; `npm start` runs it every 10 s). */
  SEEN_DRAIN_INTERVAL_SECONDS: setting.positiveSeconds(60),
  /** Receivers per SEEN call. */
  SEEN_MAX_RECEIVERS_PER_CALL: setting.positiveInt(100),
  /** JSON: per campaign_slug, which callback fields become which Braze attributes (docs/variables.md, `SEEN_CAMPAIGNS`). */
  SEEN_CAMPAIGNS: campaignsJson,
  /** Comma list of the hosts callback links may point to (`*.seen.io` wildcards); unset: any https host. */
  SEEN_ALLOWED_URL_HOSTS: allowedHosts,
});
