import type { TrackItem } from '../core/braze';
import type { FieldIssue } from '../core/errors';
import { formatPath } from '../core/validation';
import * as z from 'zod/mini';
import { AUDIENCE_FIELD, type AudienceRecord, audienceRecordSchema, type BrazeProfile } from './schemas';

export interface RejectedRecord {
  index: number;
  issues: FieldIssue[];
}

/** Validates each audience record on its own; issues name `lytics_to_braze_audience[i].field`. */
export function splitAudienceRecords(records: readonly unknown[]): { valid: AudienceRecord[]; rejected: RejectedRecord[] } {
  const valid: AudienceRecord[] = [];
  const rejected: RejectedRecord[] = [];
  records.forEach((record, index) => {
    const result = z.safeParse(audienceRecordSchema, record);
    if (result.success) valid.push(result.data);
    else {
      rejected.push({
        index,
        issues: result.error.issues.map((issue) => ({ path: formatPath([AUDIENCE_FIELD, index, ...issue.path]), message: issue.message })),
      });
    }
  });
  return { valid, rejected };
}

/**
 * Merges the records of one batch per user, in arrival order: each record's adds then its removes
 * set the segment's final state, so a later remove of a segment wins over an earlier add (and a
 * later add over an earlier remove). One Braze attribute object per user, users created when
 * unknown (no `_update_existing_only`), `lytics_segments` as Braze's array add/remove syntax.
 */
export function mergeAudienceRecords(records: readonly AudienceRecord[]): TrackItem[] {
  const users = new Map<string, Map<string, 'add' | 'remove'>>();
  for (const record of records) {
    const segments = users.get(record.external_id) ?? new Map<string, 'add' | 'remove'>();
    users.set(record.external_id, segments);
    for (const segment of record.lytics_segments.add ?? []) {
      segments.delete(segment); // re-inserted so the array order follows the latest change
      segments.set(segment, 'add');
    }
    for (const segment of record.lytics_segments.remove ?? []) {
      segments.delete(segment);
      segments.set(segment, 'remove');
    }
  }
  return [...users].map(([external_id, segments]) => {
    const add = [...segments].filter(([, state]) => state === 'add').map(([name]) => name);
    const remove = [...segments].filter(([, state]) => state === 'remove').map(([name]) => name);
    return {
      kind: 'attributes' as const,
      object: { external_id, lytics_segments: { ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) } },
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
