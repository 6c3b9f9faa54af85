import * as z from 'zod/mini';
import type { TrackItem } from '../core/braze';
import type { FieldIssue } from '../core/errors';
import type { TriggerMessage } from '../core/track-queue';
import { formatPath } from '../core/validation';
import { ODP_EVENT_FIELD_TYPES, type OdpFieldType } from './event-fields';
import { type ActivationRequest, activationRecordSchema, type CurrentsEvent, currentsEventSchema, type OdpEvent } from './schemas';

/** `SoftBounce` -> `soft_bounce`, `CustomEvent` -> `custom_event`. */
function snake(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/** Channels of `users.messages.<channel>.<Action>` as ODP event types. */
const CHANNEL_TYPES: Readonly<Record<string, string>> = {
  email: 'email',
  pushnotification: 'push',
  sms: 'sms',
  inappmessage: 'in_app_message',
  contentcard: 'content_card',
  webhook: 'webhook',
  newsfeedcard: 'news_feed_card',
  whatsapp: 'whatsapp',
  line: 'line',
  linedot: 'line',
  rcs: 'rcs',
  banner: 'banner',
  featureflag: 'feature_flag',
  liveactivity: 'live_activity',
};

/**
 * The documented map from a Braze Currents `event_type` to an ODP event `type` and `action`:
 * - `users.messages.<channel>.<Action>` -> type = the channel (`email`, `push`, `sms`,
 *   `in_app_message`, `content_card`, `webhook` ...), action = snake_case(Action)
 *   (`users.messages.email.Open` -> `email` / `open`; `.SoftBounce` -> `soft_bounce`);
 * - `users.behaviors.CustomEvent` -> `braze_custom` / snake_case of the custom event's `name`;
 * - `users.behaviors.Purchase` -> `braze_purchase` / `purchase`;
 * - any other `users.<group>.<Name>` -> `braze_<group>` / snake_case(Name)
 *   (`users.behaviors.app.SessionStart` -> `braze_behaviors` / `session_start`);
 * - anything else, an event type Braze adds later included, is sent generically:
 *   `<group>.<Name>` -> `braze_<group>` / snake_case(Name) (`agentconsole.AgentExecuted` ->
 *   `braze_agentconsole` / `agent_executed`), never refused.
 */
export function odpTypeAndAction(event: { event_type: string; properties?: Record<string, unknown> | null }): { type: string; action: string } {
  const parts = event.event_type.split('.');
  const last = parts.at(-1) ?? event.event_type;
  if (parts[0] === 'users' && parts[1] === 'messages' && parts.length >= 4) {
    const channel = (parts[2] ?? '').toLowerCase();
    return { type: CHANNEL_TYPES[channel] ?? (snake(parts[2] ?? '') || 'message'), action: snake(last) || 'event' };
  }
  if (event.event_type === 'users.behaviors.CustomEvent') {
    const name = typeof event.properties?.name === 'string' ? event.properties.name : 'custom_event';
    return { type: 'braze_custom', action: snake(name) || 'custom_event' };
  }
  if (event.event_type === 'users.behaviors.Purchase') return { type: 'braze_purchase', action: 'purchase' };
  const group = parts[0] === 'users' && parts.length > 2 ? parts[1] : parts.length > 1 ? parts[0] : undefined;
  return { type: `braze_${snake(group ?? '') || 'event'}`, action: snake(last) || 'event' };
}

/**
 * ODP's text limit: "Text is limited to 1024 characters" (ODP developer docs, "Objects and
 * fields"). A longer text value is cut to its first 1,024 characters (whole characters, never half
 * of one); an identifier that long is refused by index instead (cut, it would be another person's).
 */
const ODP_TEXT_LIMIT = 1_024;

function limitText(text: string): string {
  if (text.length <= ODP_TEXT_LIMIT) return text;
  return Array.from(text).slice(0, ODP_TEXT_LIMIT).join('');
}

const characters = (text: string) => (text.length <= ODP_TEXT_LIMIT ? text.length : Array.from(text).length);

/**
 * A value as the field it goes to takes it: a declared `number` or `boolean` field gets only a
 * number or a boolean (`"true"` read as true), a declared `string` field text; an undeclared field
 * scalars as they are and objects or arrays as JSON text. Texts are kept within ODP's limit;
 * undefined means the field is left out.
 */
function fieldValue(value: unknown, declared: OdpFieldType | undefined): unknown {
  if (value === null || value === undefined) return undefined;
  if (declared === 'number') return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  if (declared === 'boolean') return typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : undefined;
  if (typeof value === 'string') return limitText(value);
  if (declared === 'string') return limitText(typeof value === 'object' ? JSON.stringify(value) : String(value));
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return limitText(JSON.stringify(value));
}

export interface CurrentsMapping {
  /**
   * The ODP identifier that receives the Braze external user id (ODP_EXTERNAL_ID_IDENTIFIER);
   * undefined: it is not sent as an identifier.
   */
  externalIdIdentifier?: string;
}

/** The ODP event a Currents event becomes, or why it cannot be sent. */
type CurrentsOutcome = { kind: 'event'; event: OdpEvent } | { kind: 'no-identifier' } | { kind: 'refused'; issues: { path: PropertyKey[]; message: string }[] };

const EMAIL_ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * A Currents event -> an ODP event (SPEC section 2, odp-currents):
 * - `data.ts` = the event's `time` (epoch seconds), so ODP dates the event when it happened, not
 *   when it arrived (ZaiusInc/app-sdk src/app/lib/CampaignEvents.ts: `ts`, "the time of the
 *   event. If left blank, the received time will be used");
 * - every Braze field under the `_braze` prefix and none without it: `_braze_event_id`,
 *   `_braze_event_type`, `_braze_user_id` (the Braze user id), `_braze_user_<field>` for the other
 *   user fields, `_braze_<property>` for each property (functions/odp/event-fields.ts declares
 *   them and their types; objects and arrays such as `custom_properties` as JSON text);
 * - identifiers only ODP identifiers: `email` = the event's `email_address`, and the external user
 *   id under `mapping.externalIdIdentifier`. "At minimum, events require an event type and an
 *   identifier" (ODP developer docs, "Events"): an event left with none is not sent.
 */
function currentsToOdp(event: CurrentsEvent, mapping: CurrentsMapping = {}): CurrentsOutcome {
  const { type, action } = odpTypeAndAction(event);
  const data: Record<string, unknown> = {
    ts: event.time,
    _braze_event_id: limitText(event.id),
    _braze_event_type: limitText(event.event_type),
  };
  const put = (name: string, value: unknown) => {
    if (name in data) return;
    const kept = fieldValue(value, ODP_EVENT_FIELD_TYPES.get(name));
    if (kept !== undefined) data[name] = kept;
  };
  const { user_id: brazeId, ...otherUser } = event.user ?? {};
  put('_braze_user_id', brazeId);
  for (const [key, value] of Object.entries(otherUser)) {
    const name = snake(key);
    if (name) put(`_braze_user_${name}`, value);
  }
  for (const [key, value] of Object.entries(event.properties ?? {})) {
    const name = snake(key);
    if (name) put(`_braze_${name}`, value);
  }

  const identifiers: Record<string, string> = {};
  const issues: { path: PropertyKey[]; message: string }[] = [];
  const identify = (name: string, value: string, path: PropertyKey[]) => {
    if (characters(value) > ODP_TEXT_LIMIT) issues.push({ path, message: `longer than ODP's ${ODP_TEXT_LIMIT} characters: cannot identify anyone in ODP` });
    else identifiers[name] = value;
  };
  const email = event.properties?.email_address;
  if (typeof email === 'string' && EMAIL_ADDRESS.test(email.trim())) identify('email', email.trim().toLowerCase(), ['properties', 'email_address']);
  const externalId = event.user?.external_user_id?.trim();
  if (mapping.externalIdIdentifier && externalId) identify(mapping.externalIdIdentifier, externalId, ['user', 'external_user_id']);
  if (issues.length > 0) return { kind: 'refused', issues };
  if (Object.keys(identifiers).length === 0) return { kind: 'no-identifier' };
  return { kind: 'event', event: { type, action, identifiers, data } };
}

export interface CurrentsBatch {
  events: { id: string; event: OdpEvent }[];
  rejected: { index: number; issues: FieldIssue[] }[];
  /** Valid events not sent because ODP would have no identifier to file them under, by Braze event type. */
  withoutIdentifier: Record<string, number>;
}

/**
 * A Currents batch -> ODP events. An event without event_type, id or time, or with an identifier
 * past ODP's text limit, is refused by index; an event with no ODP identifier is counted by type
 * in `withoutIdentifier` and not sent.
 */
export function currentsBatchToOdp(input: readonly unknown[], mapping: CurrentsMapping = {}): CurrentsBatch {
  const batch: CurrentsBatch = { events: [], rejected: [], withoutIdentifier: {} };
  input.forEach((raw, index) => {
    const at = (path: PropertyKey[]) => formatPath(['events', index, ...path]);
    const parsed = z.safeParse(currentsEventSchema, raw);
    if (!parsed.success) {
      batch.rejected.push({ index, issues: parsed.error.issues.map((issue) => ({ path: at(issue.path), message: issue.message })) });
      return;
    }
    const outcome = currentsToOdp(parsed.data, mapping);
    if (outcome.kind === 'refused') batch.rejected.push({ index, issues: outcome.issues.map((issue) => ({ path: at(issue.path), message: issue.message })) });
    else if (outcome.kind === 'no-identifier') batch.withoutIdentifier[parsed.data.event_type] = (batch.withoutIdentifier[parsed.data.event_type] ?? 0) + 1;
    else batch.events.push({ id: parsed.data.id, event: outcome.event });
  });
  return batch;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * User profile fields an activation's fields may never write, as trigger attributes or profile
 * attributes (SPEC section 2, odp-activation): Braze's identifiers, subscription state and push
 * tokens (braze-inc/braze-docs _docs/_api/objects_filters/user_attributes_object.md, "Object body"
 * and "Braze user profile fields"). Whoever holds the ODP inbound token must not be able to
 * re-subscribe someone, attach a device to a profile or move a profile to another identity.
 */
const FORBIDDEN_FIELDS: Readonly<Record<string, string>> = {
  external_id: 'an identifier',
  braze_id: 'an identifier',
  user_alias: 'an identifier',
  alias_name: 'an identifier',
  alias_label: 'an identifier',
  email: 'an identifier',
  phone: 'an identifier',
  _update_existing_only: 'an identifier',
  push_token_import: 'push tokens',
  push_tokens: 'push tokens',
  email_subscribe: 'subscription state',
  push_subscribe: 'subscription state',
  subscription_groups: 'subscription state',
  email_open_tracking_disabled: 'subscription state',
  email_click_tracking_disabled: 'subscription state',
  marked_email_as_spam_at: 'subscription state',
};

export interface ActivationBatch {
  /** `profile`: /users/track attribute objects. */
  attributes: TrackItem[];
  /** `campaign` / `canvas`: one trigger recipient each. */
  recipients: TriggerMessage['recipient'][];
  rejected: { index: number; issues: FieldIssue[] }[];
}

/**
 * ODP activation records -> Braze: for a profile update, attribute objects keyed by external_id
 * (or email where that is all there is) with the fields as attributes; for a campaign or Canvas,
 * trigger recipients whose fields become trigger / entry properties and attributes. A record with
 * no identifier, more than 20 fields, or a field that would write Braze's identifiers,
 * subscription state or push tokens (FORBIDDEN_FIELDS) is refused by index.
 */
export function activationToBraze(request: ActivationRequest): ActivationBatch {
  const batch: ActivationBatch = { attributes: [], recipients: [], rejected: [] };
  request.records.forEach((input, index) => {
    const at = (path: PropertyKey[]) => formatPath(['records', index, ...path]);
    const parsed = z.safeParse(activationRecordSchema, input);
    if (!parsed.success) {
      batch.rejected.push({ index, issues: parsed.error.issues.map((issue) => ({ path: at(issue.path), message: issue.message })) });
      return;
    }
    const { external_id: externalId, email, fields = {} } = parsed.data;
    const issues: FieldIssue[] = [];
    if (!externalId && !email) issues.push({ path: at(['external_id']), message: 'a record needs external_id or email' });
    if (!externalId && email && !EMAIL.test(email)) issues.push({ path: at(['email']), message: 'not an email address' });
    for (const name of Object.keys(fields)) {
      const forbidden = FORBIDDEN_FIELDS[name.trim().toLowerCase()];
      if (forbidden) issues.push({ path: at(['fields', name]), message: `writes Braze's ${forbidden}: an activation may not` });
    }
    if (issues.length > 0) {
      batch.rejected.push({ index, issues });
      return;
    }
    const who = externalId ? { external_id: externalId } : { email: email!.toLowerCase() };
    if (request.target === 'profile') batch.attributes.push({ kind: 'attributes', object: { ...who, ...fields } });
    else batch.recipients.push({ ...(externalId ? { external_user_id: externalId } : { email: email!.toLowerCase() }), fields });
  });
  return batch;
}
