import * as z from 'zod/mini';
import { type JobStateStore, loadCheckedState } from '../core/job-state';

/**
 * The version of SyncState this code writes and reads. Change it with any change of the state's
 * shape or meaning: a run saved by the other version then fails by name on its next step (start a
 * new run) instead of halfway through a segment.
 */
export const SYNC_STATE_VERSION = 1;

const count = () => z.number().check(z.int(), z.nonnegative());
const positionSchema = z.strictObject({ entry: count(), line: count() });

const totalsSchema = z.strictObject({
  /** Segments read to the end. */
  segments: count(),
  /** Export lines read (users), skipped and rejected ones included. */
  usersRead: count(),
  /** Profiles ODP accepted. */
  profilesSent: count(),
  /** Profiles ODP refused (a 400 on the profile alone). */
  rejected: count(),
  /** Users with no ODP identifier after mapping (no email, say), or lines that are not JSON objects. */
  skipped: count(),
  /** /v3/profiles calls that succeeded. */
  requests: count(),
});

const SYNC_PHASES = ['list', 'export', 'wait', 'stream', 'done'] as const;

/** What the job state table holds for a run: where it is and what it did, never a profile. */
const syncStateSchema = z.strictObject({
  version: z.literal(SYNC_STATE_VERSION),
  startedAt: z.number(),
  phase: z.enum(SYNC_PHASES),
  segments: z.array(z.strictObject({ id: z.string().check(z.minLength(1)), name: z.string() })),
  /** The segment being exported or streamed (index in `segments`). */
  segment: count(),
  /** Braze's download URL of the current export (presigned: kept in the table, never logged). */
  exportUrl: z.optional(z.string()),
  exportRequestedAt: z.optional(z.number()),
  /** Exports asked for the current segment (a second one when the first URL expired mid-run). */
  exports: count(),
  /** The next line to read in the current export. */
  position: positionSchema,
  totals: totalsSchema,
  finishedAt: z.optional(z.number()),
});

export type SyncState = z.infer<typeof syncStateSchema>;
export type SyncTotals = SyncState['totals'];
type SyncPhase = SyncState['phase'];

export function newSyncState(now: number): SyncState {
  return {
    version: SYNC_STATE_VERSION,
    startedAt: now,
    phase: 'list',
    segments: [],
    segment: 0,
    exports: 0,
    position: { entry: 0, line: 0 },
    totals: { segments: 0, usersRead: 0, profilesSent: 0, rejected: 0, skipped: 0, requests: 0 },
  };
}

/** The run's saved state, checked (JobStateError naming the version or the field), or a new one. */
export async function loadSyncState(store: JobStateStore, job: string, runId: string, now: number): Promise<SyncState> {
  return (await loadCheckedState(store, job, runId, { version: SYNC_STATE_VERSION, schema: syncStateSchema })) ?? newSyncState(now);
}

/** The current segment is read to the end: on to the next one, or done. */
export function moveToNextSegment(state: SyncState): void {
  state.totals.segments += 1;
  state.segment += 1;
  state.exportUrl = undefined;
  state.exportRequestedAt = undefined;
  state.exports = 0;
  state.position = { entry: 0, line: 0 };
  state.phase = state.segment < state.segments.length ? 'export' : 'done';
}

export interface SyncProgress extends SyncTotals {
  phase: SyncPhase;
  /** 1-based index of the segment at work, and how many were selected. */
  segmentNumber: number;
  segmentCount: number;
  segmentName?: string;
}

export function progressOf(state: SyncState): SyncProgress {
  return {
    ...state.totals,
    phase: state.phase,
    segmentNumber: Math.min(state.segment + 1, state.segments.length),
    segmentCount: state.segments.length,
    segmentName: state.segments[state.segment]?.name,
  };
}
