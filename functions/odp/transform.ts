import * as z from 'zod/mini';
import type { FieldIssue } from '../core/errors';
import { formatPath } from '../core/validation';
import { type CurrentsEvent, currentsEventSchema, type OdpEvent } from './schemas';

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
