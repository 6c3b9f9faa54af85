import * as z from 'zod/mini';
import { setting } from '../core/settings';
import { parseAllowedTargets } from './allowed-targets';
import { parseFieldMappings, parseSegmentSelection } from './segment-selection';

/**
 * What an ODP identifier's name may be: lower snake case ending in one of the suffixes ODP's schema
 * API takes for an identifier (ZaiusInc/node-sdk src/Api/Types/Schema.ts IdentifierDefinition:
 * "_id", "_hash", "_number", "_token", "_alias", "_address" or "_key").
 */
export const ODP_IDENTIFIER_NAME = /^[a-z][a-z0-9_]*_(id|hash|number|token|alias|address|key)$/;

/** Optimizely Data Platform's settings (SPEC sections 2 and 5), with their defaults. */
export const odpSettings = z.object({
  /** ODP REST API base, e.g. https://api.zaius.com (US) or https://api.eu1.odp.optimizely.com; unset locally means the sandbox. */
  ODP_API_URL: setting.optionalUrl(),
  /**
   * The ODP identifier that receives Braze's external user id on Currents events (a custom
   * identifier the team created in ODP, e.g. `braze_external_id`; `npx bridge setup odp` creates it
   * or says how). Unset: the external id is not sent as an identifier, only the email is.
   */
  ODP_EXTERNAL_ID_IDENTIFIER: z.optional(
    z.string().check(z.regex(ODP_IDENTIFIER_NAME, 'an ODP identifier name: lower snake case ending in _id, _hash, _number, _token, _alias, _address or _key')),
  ),
  /** Braze campaigns an ODP activation may trigger: ids separated by commas, or `*` for any; unset allows none. */
  ODP_ALLOWED_CAMPAIGNS: setting.checkedText(parseAllowedTargets, 'campaign ids separated by commas, or * for any'),
  /** Braze Canvases an ODP activation may trigger: ids separated by commas, or `*` for any; unset allows none. */
  ODP_ALLOWED_CANVASES: setting.checkedText(parseAllowedTargets, 'Canvas ids separated by commas, or * for any'),
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
