import * as z from 'zod/mini';
import type { TrackItem } from '../core/braze';
import type { FieldIssue } from '../core/errors';
import { formatPath } from '../core/validation';
import { AUDIENCE_FIELD, AUDIENCE_IDENTIFIERS, type AudienceIdentifier, type AudienceRecord, audienceRecordSchema, type BrazeProfile } from './schemas';

export interface RejectedRecord {
  index: number;
  issues: FieldIssue[];
}

/** Validates each audience record on its own; issues name `lytics_to_braze_audience[i].field`. */
export function splitAudienceRecords(records: readonly unknown[]): { valid: AudienceRecord[]; rejected: RejectedRecord[] } {
  return splitAudienceBody({ [AUDIENCE_FIELD]: records });
}

const isEnvelope = (item: unknown): item is Record<string, unknown> =>
  item !== null && typeof item === 'object' && !Array.isArray(item) && AUDIENCE_FIELD in item;

/**
 * The records of a body (the envelope, one record, or an array of records or envelopes), each
 * validated on its own: `valid` in body order; `rejected` by the record's index in that order, its
 * issues naming where it stands (`[2].lytics_to_braze_audience[5].external_id`).
 */
export function splitAudienceBody(body: unknown): { valid: AudienceRecord[]; rejected: RejectedRecord[]; count: number } {
  const valid: AudienceRecord[] = [];
  const rejected: RejectedRecord[] = [];
  let index = 0;
  const check = (record: unknown, path: PropertyKey[]) => {
    const result = z.safeParse(audienceRecordSchema, record);
    if (result.success) valid.push(result.data);
    else rejected.push({ index, issues: result.error.issues.map((issue) => ({ path: formatPath([...path, ...issue.path]), message: issue.message })) });
    index++;
  };
  const item = (value: unknown, path: PropertyKey[]) => {
    if (!isEnvelope(value)) return check(value, path);
    const records = value[AUDIENCE_FIELD];
    if (!Array.isArray(records) || records.length === 0) {
      rejected.push({ index: index++, issues: [{ path: formatPath([...path, AUDIENCE_FIELD]), message: 'expected a non-empty array of records' }] });
      return;
    }
    records.forEach((record, i) => {
      check(record, [...path, AUDIENCE_FIELD, i]);
    });
  };
  if (Array.isArray(body))
    body.forEach((value, i) => {
      item(value, [i]);
    });
  else item(body, []);
  return { valid, rejected, count: index };
}

/** The identifier a record names its user by, and its value (an alias as its object). */
function identifierOf(record: AudienceRecord): { key: AudienceIdentifier; value: string | { alias_name: string; alias_label: string } } {
  for (const key of AUDIENCE_IDENTIFIERS) {
    const value = record[key];
    if (value !== undefined) return { key, value };
  }
  throw new RangeError('a record without an identifier passed validation');
}

/** The user a record is about, as a map key: identifiers of different kinds never collide. */
function userKey(record: AudienceRecord): string {
  const { key, value } = identifierOf(record);
  return typeof value === 'string' ? `${key}\u0000${value}` : `${key}\u0000${value.alias_label}\u0000${value.alias_name}`;
}

/**
 * Merges the records of one batch per user (per identifier), in arrival order: each record's adds
 * then its removes set the segment's final state, so a later remove of a segment wins over an
 * earlier add (and a later add over an earlier remove). One Braze attribute object per user, named
 * by the record's identifier as Braze takes it (`external_id`, `braze_id`, `email`, `phone` or
 * `user_alias`), users created when unknown (no `_update_existing_only`), `lytics_segments` as
 * Braze's array add/remove syntax.
 */
export function mergeAudienceRecords(records: readonly AudienceRecord[]): TrackItem[] {
  const users = new Map<string, { identifier: ReturnType<typeof identifierOf>; segments: Map<string, 'add' | 'remove'> }>();
  for (const record of records) {
    const key = userKey(record);
    const user = users.get(key) ?? { identifier: identifierOf(record), segments: new Map<string, 'add' | 'remove'>() };
    users.set(key, user);
    for (const segment of record.lytics_segments.add ?? []) {
      user.segments.delete(segment); // re-inserted so the array order follows the latest change
      user.segments.set(segment, 'add');
    }
    for (const segment of record.lytics_segments.remove ?? []) {
      user.segments.delete(segment);
      user.segments.set(segment, 'remove');
    }
  }
  return [...users.values()].map(({ identifier, segments }) => {
    const add = [...segments].filter(([, state]) => state === 'add').map(([name]) => name);
    const remove = [...segments].filter(([, state]) => state === 'remove').map(([name]) => name);
    return {
      kind: 'attributes' as const,
      object: { [identifier.key]: identifier.value, lytics_segments: { ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) } },
    };
  });
}

/**
 * A Braze webhook profile -> one event for the Lytics `braze_users` stream. Fields Braze rendered
 * empty (a Liquid tag with no value) are left out so they never blank what Lytics already knows.
 */
export function profileToLyticsEvent(profile: BrazeProfile): Record<string, string | number | boolean> {
  const event: Record<string, string | number | boolean> = {};
  for (const [field, value] of Object.entries(profile)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'string' && value.trim() === '') continue;
    event[field] = typeof value === 'string' ? value.trim() : (value as number | boolean);
  }
  return event;
}
