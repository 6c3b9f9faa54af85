import * as z from 'zod/mini';
import type { TrackItem } from '../core/braze';
import type { FieldIssue } from '../core/errors';
import { isJsonObject } from '../core/json-input';
import { formatPath } from '../core/validation';
import {
  AUDIENCE_FIELD,
  AUDIENCE_IDENTIFIERS,
  type AudienceIdentifier,
  type AudienceRecord,
  audienceRecordSchema,
  type BrazeProfile,
  isKeptAudienceRecord,
} from './schemas';

export interface RejectedRecord {
  index: number;
  issues: FieldIssue[];
}

/** Validates each audience record on its own; issues name `lytics_to_braze_audience[i].field`. */
export function splitAudienceRecords(records: readonly unknown[]): { valid: AudienceRecord[]; rejected: RejectedRecord[] } {
  return splitAudienceBody({ [AUDIENCE_FIELD]: records });
}

const isEnvelope = (item: unknown): item is Record<string, unknown> => isJsonObject(item) && AUDIENCE_FIELD in item;

/**
 * The records of a body (the envelope, one record, or an array of records or envelopes), each
 * validated on its own: `valid` in body order; `rejected` by the record's index in that order, its
 * issues naming where it stands (`[2].lytics_to_braze_audience[5].external_id`).
 */
export function splitAudienceBody(body: unknown): { valid: AudienceRecord[]; rejected: RejectedRecord[]; count: number } {
  const valid: AudienceRecord[] = [];
  const rejected: RejectedRecord[] = [];
  let index = 0;
  // `path()` is where the record stands, built only for a refused record (a backfill's 1,000 valid ones need none).
  const check = (record: unknown, path: () => PropertyKey[]) => {
    if (isKeptAudienceRecord(record)) {
      valid.push(record);
      index++;
      return;
    }
    const result = z.safeParse(audienceRecordSchema, record);
    if (result.success) valid.push(result.data);
    else {
      const at = path();
      rejected.push({ index, issues: result.error.issues.map((issue) => ({ path: formatPath([...at, ...issue.path]), message: issue.message })) });
    }
    index++;
  };
  const item = (value: unknown, path: PropertyKey[]) => {
    if (!isEnvelope(value)) return check(value, () => path);
    const records = value[AUDIENCE_FIELD];
    if (!Array.isArray(records) || records.length === 0) {
      rejected.push({ index: index++, issues: [{ path: formatPath([...path, AUDIENCE_FIELD]), message: 'expected a non-empty array of records' }] });
      return;
    }
    for (let i = 0; i < records.length; i++) check(records[i], () => [...path, AUDIENCE_FIELD, i]);
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

type Identifier = ReturnType<typeof identifierOf>;

/** The user an identifier names, as a map key: identifiers of different kinds never collide. */
function userKey({ key, value }: Identifier): string {
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
  // A user's first record is kept as it came; the segment states are worked out for a user named
  // again or a record of more than one segment (a backfill sends one record a user, often of one segment).
  const users = new Map<string, { identifier: Identifier; record: AudienceRecord; segments?: Map<string, 'add' | 'remove'> }>();
  for (const record of records) {
    const identifier = identifierOf(record);
    const key = userKey(identifier);
    const user = users.get(key);
    if (!user) users.set(key, { identifier, record });
    else {
      user.segments ??= segmentStates(user.record);
      applySegments(user.segments, record);
    }
  }
  const items: TrackItem[] = [];
  for (const { identifier, record, segments } of users.values()) {
    const lists = segments ? segmentLists(segments) : (oneSegment(record) ?? segmentLists(segmentStates(record)));
    items.push({ kind: 'attributes', object: { [identifier.key]: identifier.value, lytics_segments: lists } });
  }
  return items;
}

/** The lists of a record that names one segment, as they are; undefined otherwise. */
function oneSegment({ lytics_segments: { add, remove } }: AudienceRecord): { add: string[] } | { remove: string[] } | undefined {
  const adds = add?.length ?? 0;
  const removes = remove?.length ?? 0;
  if (adds + removes !== 1) return undefined;
  return adds ? { add: add as string[] } : { remove: remove as string[] };
}

/** The segment states one record sets: its adds, then its removes, each moved to the end on a change. */
function segmentStates(record: AudienceRecord): Map<string, 'add' | 'remove'> {
  return applySegments(new Map(), record);
}

function applySegments(segments: Map<string, 'add' | 'remove'>, record: AudienceRecord): Map<string, 'add' | 'remove'> {
  for (const segment of record.lytics_segments.add ?? []) {
    segments.delete(segment); // re-inserted so the array order follows the latest change
    segments.set(segment, 'add');
  }
  for (const segment of record.lytics_segments.remove ?? []) {
    segments.delete(segment);
    segments.set(segment, 'remove');
  }
  return segments;
}

/** Braze's array add/remove syntax for the final states: `{add?: [...], remove?: [...]}`, empty lists left out. */
function segmentLists(segments: ReadonlyMap<string, 'add' | 'remove'>): { add?: string[]; remove?: string[] } {
  const add: string[] = [];
  const remove: string[] = [];
  for (const [name, state] of segments) (state === 'add' ? add : remove).push(name);
  return { ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) };
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
