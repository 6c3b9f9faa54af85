import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { ConfigError, type FieldIssue } from '../core/errors';
import { EPOCH_MS_THRESHOLD, eventTimeMs } from '../core/time';

/** Re-exported: the Movable Ink mapping reads times as every flow does. */
export { EPOCH_MS_THRESHOLD, eventTimeMs };

import { formatPath } from '../core/validation';
import { type MovableInkCall, type MovableInkEvent, type MovableInkMessage, movableInkEventSchema } from './schemas';

/** Movable Ink drops events older than this. */
export const MAX_EVENT_AGE_MS = 30 * 24 * 3600 * 1000;
export interface MovableInkOptions {
  /** Now, epoch ms (the clock is passed in: the transform does no I/O). */
  now: number;
  /** Braze event name -> Movable Ink event name (MOVABLE_INK_EVENT_NAMES). */
  eventNames: Readonly<Record<string, string>>;
  /** Event names that become `identify` when they carry external_id and email. */
  identifyEvents: ReadonlySet<string>;
  knownUsersOnly: boolean;
  defaultTimezone: string;
}

interface RejectedEvent {
  index: number;
  issues: FieldIssue[];
}

export interface MovableInkBatch {
  messages: MovableInkMessage[];
  rejected: RejectedEvent[];
  /** Valid events not sent: anonymous ones under MOVABLE_INK_KNOWN_USERS_ONLY. */
  skipped: number;
}

/** "Product Viewed" -> "product_viewed", "productViewed" -> "product_viewed"; letters of any script kept. */
export function snakeCase(name: string): string {
  return name
    .normalize('NFC')
    .trim()
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1_$2')
    .toLowerCase()
    .normalize('NFC')
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
}

/** md5 hex of the trimmed, lower-cased email: Movable Ink's anonymous id (the email never leaves). */
export function anonymousId(email: string): string {
  return createHash('md5').update(email.trim().toLowerCase(), 'utf8').digest('hex');
}

/** MOVABLE_INK_EVENT_NAMES: a JSON object of strings; absent means no renaming. */
export function parseEventNames(json: string | undefined): Record<string, string> {
  if (!json) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new ConfigError('MOVABLE_INK_EVENT_NAMES is not valid JSON', { cause });
  }
  const result = z.safeParse(z.record(z.string(), z.string().check(z.minLength(1))), parsed);
  if (!result.success) throw new ConfigError('MOVABLE_INK_EVENT_NAMES must map Braze event names to Movable Ink event names (strings)');
  return result.data;
}

/** MOVABLE_INK_IDENTIFY_EVENTS: a comma list of Braze event names. */
export function parseIdentifyEvents(list: string): Set<string> {
  return new Set(
    list
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * Braze events -> one Movable Ink request each (track, or identify for the configured events when
 * both ids are known). An event that fails validation, has no identifier, or is older than 30 days
 * is refused by index; the others go on. `rawEvents` is the same array parsed keeping numbers as
 * written, so properties reach Movable Ink exactly as Braze sent them (1.10 stays 1.10, big ids
 * lose no digit). No I/O: `now` comes in with the options.
 */
export function eventsToMovableInk(
  events: readonly unknown[],
  options: MovableInkOptions,
  meta: { flow: string; requestId: string; rawEvents?: readonly unknown[] },
): MovableInkBatch {
  const messages: MovableInkMessage[] = [];
  const rejected: RejectedEvent[] = [];
  let skipped = 0;
  events.forEach((input, index) => {
    const at = (path: PropertyKey[]) => formatPath(['events', index, ...path]);
    const parsed = z.safeParse(movableInkEventSchema, input);
    if (!parsed.success) {
      rejected.push({ index, issues: parsed.error.issues.map((issue) => ({ path: at(issue.path), message: issue.message })) });
      return;
    }
    const event: MovableInkEvent = parsed.data;
    const issues: FieldIssue[] = [];
    const externalId = event.external_id || undefined;
    const email = event.email?.trim() || undefined;
    if (email !== undefined && !EMAIL.test(email)) issues.push({ path: at(['email']), message: 'not an email address' });
    if (externalId === undefined && email === undefined) issues.push({ path: at(['external_id']), message: 'an event needs external_id or email' });
    const timestamp = eventTimeMs(event.time, options.now);
    if (typeof timestamp === 'string') issues.push({ path: at(['time']), message: timestamp });
    else if (timestamp < options.now - MAX_EVENT_AGE_MS) issues.push({ path: at(['time']), message: 'older than 30 days: Movable Ink drops such events' });
    const eventName = options.eventNames[event.name] ?? snakeCase(event.name);
    if (!eventName) issues.push({ path: at(['name']), message: 'has no letter or digit to name the event with' });
    if (issues.length > 0 || typeof timestamp === 'string') {
      rejected.push({ index, issues });
      return;
    }
    if (options.knownUsersOnly && externalId === undefined) {
      skipped++;
      return;
    }
    const timezone = event.time_zone || options.defaultTimezone;
    const base = { v: 1 as const, flow: meta.flow, requestId: meta.requestId, ...(event.id ? { dedupe: `movable-ink:${event.id}` } : {}) };
    let call: MovableInkCall;
    let properties: string | undefined;
    if (options.identifyEvents.has(event.name) && externalId !== undefined && email !== undefined) {
      call = { type: 'identify', anonymous_id: anonymousId(email), user_id: externalId, timestamp, timezone };
    } else {
      call = {
        type: 'track',
        event: eventName,
        timestamp,
        timezone,
        ...(externalId !== undefined ? { user_id: externalId } : { anonymous_id: anonymousId(email!) }),
      };
      const raw = (meta.rawEvents?.[index] as { properties?: unknown } | undefined)?.properties;
      properties = JSON.stringify(raw !== undefined && typeof raw === 'object' && raw !== null ? raw : (event.properties ?? {}));
    }
    messages.push({ ...base, call, ...(properties !== undefined ? { properties } : {}) });
  });
  return { messages, rejected, skipped };
}

/** The body Movable Ink receives: the call's fields, then the properties exactly as Braze sent them. */
export function movableInkBody(message: Pick<MovableInkMessage, 'call' | 'properties'>): string {
  const head = JSON.stringify(message.call);
  return message.properties === undefined ? head : `${head.slice(0, -1)},"properties":${message.properties}}`;
}

/**
 * Parses a JSON text keeping each number as written where JavaScript would print it otherwise
 * (1.10, 1e3, 12345678901234567890), so JSON.stringify gives the sender's digits back.
 */
export function parseKeepingNumbers(text: string): unknown {
  const raw = (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON;
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === 'number' && context?.source !== undefined && String(value) !== context.source) return raw(context.source);
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}
