import * as z from 'zod/mini';
import type { TrackItem } from '../core/braze';
import type { FieldIssue } from '../core/errors';
import type { TriggerMessage } from '../core/track-queue';
import { formatPath } from '../core/validation';
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
  linedot: 'line',
};

/**
 * The documented map from a Braze Currents `event_type` to an ODP event `type` and `action`:
 * - `users.messages.<channel>.<Action>` -> type = the channel (`email`, `push`, `sms`,
 *   `in_app_message`, `content_card`, `webhook` ...), action = snake_case(Action)
 *   (`users.messages.email.Open` -> `email` / `open`; `.SoftBounce` -> `soft_bounce`);
 * - `users.behaviors.CustomEvent` -> `braze_custom` / snake_case of the custom event's `name`;
 * - `users.behaviors.Purchase` -> `braze_purchase` / `purchase`;
 * - any other `users.<group>.<Name>` -> `braze_<group>` / snake_case(Name)
 *   (`users.behaviors.app.SessionStart` -> `braze_behaviors` / `session_start`).
 */
export function odpTypeAndAction(event: Pick<CurrentsEvent, 'event_type' | 'properties'>): { type: string; action: string } {
  const parts = event.event_type.split('.');
  const last = parts.at(-1) ?? event.event_type;
  if (parts[0] === 'users' && parts[1] === 'messages' && parts.length >= 4) {
    const channel = (parts[2] ?? '').toLowerCase();
    return { type: CHANNEL_TYPES[channel] ?? snake(parts[2] ?? 'message'), action: snake(last) };
  }
  if (event.event_type === 'users.behaviors.CustomEvent') {
    const name = typeof event.properties?.name === 'string' ? event.properties.name : 'custom_event';
    return { type: 'braze_custom', action: snake(name) || 'custom_event' };
  }
  if (event.event_type === 'users.behaviors.Purchase') return { type: 'braze_purchase', action: 'purchase' };
  return { type: `braze_${snake(parts[1] ?? 'event')}`, action: snake(last) };
}

/** An ODP field value: scalars as they are, anything else as JSON text (ODP fields are scalars). */
function scalar(value: unknown): unknown {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
}

/**
 * A Currents event -> an ODP event. Every Braze field is under the `_braze` prefix and none
 * without it: `_braze_event_id`, `_braze_event_type`, `_braze_time`, `_braze_user_id` (the Braze
 * user id), `_braze_<property>` for each property, `_braze_user_<field>` for other user fields.
 * Identifiers: `customer_id` from the external user id, `email` from the event's email address.
 */
export function currentsToOdp(event: CurrentsEvent): OdpEvent {
  const { type, action } = odpTypeAndAction(event);
  const data: Record<string, unknown> = {
    _braze_event_id: event.id,
    _braze_event_type: event.event_type,
    _braze_time: event.time,
  };
  const { user_id: brazeId, external_user_id: externalId, ...otherUser } = event.user ?? {};
  if (brazeId) data._braze_user_id = brazeId;
  for (const [key, value] of Object.entries(otherUser)) data[`_braze_user_${snake(key)}`] = scalar(value);
  for (const [key, value] of Object.entries(event.properties ?? {})) data[`_braze_${snake(key)}`] = scalar(value);
  const identifiers: Record<string, string> = {};
  if (externalId) identifiers.customer_id = externalId;
  const email = event.properties?.email_address ?? event.properties?.email;
  if (typeof email === 'string' && email.includes('@')) identifiers.email = email.trim().toLowerCase();
  return { type, action, identifiers, data };
}

export interface CurrentsBatch {
  events: { id: string; event: OdpEvent }[];
  rejected: { index: number; issues: FieldIssue[] }[];
}

/** A Currents batch -> ODP events; an event without event_type, id or time is refused by index. */
export function currentsBatchToOdp(input: readonly unknown[]): CurrentsBatch {
  const events: CurrentsBatch['events'] = [];
  const rejected: CurrentsBatch['rejected'] = [];
  input.forEach((raw, index) => {
    const parsed = z.safeParse(currentsEventSchema, raw);
    if (!parsed.success) {
      rejected.push({ index, issues: parsed.error.issues.map((issue) => ({ path: formatPath(['events', index, ...issue.path]), message: issue.message })) });
      return;
    }
    events.push({ id: parsed.data.id, event: currentsToOdp(parsed.data) });
  });
  return { events, rejected };
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** Attribute names Braze reserves for identifiers: an activation field may not overwrite them. */
const RESERVED_FIELDS = new Set(['external_id', 'braze_id', 'user_alias', 'email', 'phone', '_update_existing_only']);

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
 * no identifier, more than 20 fields, or a field named like a Braze identifier is refused by index.
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
      if (RESERVED_FIELDS.has(name)) issues.push({ path: at(['fields', name]), message: 'names a Braze identifier: not allowed as a field' });
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
