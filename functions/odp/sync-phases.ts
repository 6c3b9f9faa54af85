import { BridgeError, RetryableDeliveryError } from '../core/errors';
import { selectSegments } from './segment-selection';
import { streamExport } from './stream-export';
import type { PhaseOutcome, SyncJob, SyncRun } from './sync-job';
import { moveToNextSegment, type SyncState } from './sync-state';

/** An export URL that stopped answering mid-run (it expired) is asked for again at most this many times per segment. */
const MAX_EXPORTS_PER_SEGMENT = 3;

/** The export never became ready: names the segment and how long it waited. */
export class ExportNotReadyError extends BridgeError {}

const PHASE_DONE: PhaseOutcome = { next: 'phase' };

const currentSegment = (state: SyncState) => state.segments[state.segment]!;

/** `list`: every segment Braze lists -> the ones ODP_SEGMENTS selects; none selected ends the run. */
async function listPhase(job: SyncJob, run: SyncRun): Promise<PhaseOutcome> {
  const { selected, unmatched } = selectSegments(await job.braze.listSegments(run.deadline), job.selection);
  if (unmatched.length > 0) job.logger.warn('ODP_SEGMENTS names segments Braze does not list', { unmatched: unmatched.length });
  if (selected.length === 0) {
    job.logger.warn('no segment selected: nothing to sync (check ODP_SEGMENTS)', { setting: job.selection.kind });
  }
  run.state.segments = selected;
  run.state.phase = selected.length > 0 ? 'export' : 'done';
  job.logger.info('segments selected', { count: selected.length, ids: selected.map((s) => s.id) });
  return PHASE_DONE;
}

/** `export`: asks Braze for the current segment's export (again, when its URL expired), then waits for it. */
async function exportPhase(job: SyncJob, run: SyncRun): Promise<PhaseOutcome> {
  const { state } = run;
  const segment = currentSegment(state);
  if (state.exports >= MAX_EXPORTS_PER_SEGMENT) {
    throw new ExportNotReadyError(`segment ${segment.id}: its export URL stopped answering ${state.exports} times`);
  }
  state.exportUrl = await job.braze.requestExport(segment.id, job.fields, run.deadline);
  state.exportRequestedAt = job.clock.now();
  state.exports += 1;
  state.position = { entry: 0, line: 0 };
  state.phase = 'wait';
  job.logger.info('export requested', { segmentId: segment.id });
  return PHASE_DONE;
}

/**
 * `wait` and `stream`: opens the export's download. Not there yet (`wait`): the step answers `wait`
 * until ODP_EXPORT_MAX_WAIT_MINUTES. There: streamed to ODP from the saved position (`stream`), and
 * on to the next segment at its end. Gone mid-stream (the URL expired): exported again; unavailable
 * mid-stream: the step fails, and its retry resumes from the saved position.
 */
async function downloadPhase(job: SyncJob, run: SyncRun): Promise<PhaseOutcome> {
  const { state } = run;
  const body = await job.braze.openExport(state.exportUrl!, run.signal);
  if (typeof body === 'string') return state.phase === 'stream' ? downloadLost(job, run, body) : waitForExport(job, run);
  if (state.phase === 'wait') {
    state.phase = 'stream';
    await run.checkpoint();
  }
  if (!(await streamExport(job, run, body))) return { next: 'continue' };
  moveToNextSegment(state);
  return PHASE_DONE;
}

/** The export is not ready yet: `wait`, or ExportNotReadyError once it has waited too long. */
async function waitForExport(job: SyncJob, run: SyncRun): Promise<PhaseOutcome> {
  const now = job.clock.now();
  const waitedMs = now - (run.state.exportRequestedAt ?? now);
  if (waitedMs >= job.exportMaxWaitMinutes * 60_000) {
    throw new ExportNotReadyError(
      `segment ${currentSegment(run.state).id}: Braze's export was not ready after ${Math.round(waitedMs / 60_000)} ` +
        `minutes (ODP_EXPORT_MAX_WAIT_MINUTES=${job.exportMaxWaitMinutes})`,
    );
  }
  await run.checkpoint();
  return { next: 'wait', waitSeconds: Math.max(1, Math.round(job.exportPollSeconds)) };
}

/** The download answered before and no longer does. */
function downloadLost(job: SyncJob, run: SyncRun, why: 'missing' | 'unavailable'): PhaseOutcome {
  const { state } = run;
  const segment = currentSegment(state);
  // A passing fault of the storage: fail the step; its retry resumes from the saved position.
  if (why === 'unavailable') throw new RetryableDeliveryError(`segment ${segment.id}: the export download is unavailable`);
  // It expired (presigned URLs do): export again, from the start.
  job.logger.warn('export URL no longer answers: exporting the segment again', {
    segmentId: segment.id,
    entry: state.position.entry,
    line: state.position.line,
  });
  state.phase = 'export';
  return PHASE_DONE;
}

/** The phase the run is in, run once. */
export function runPhase(job: SyncJob, run: SyncRun): Promise<PhaseOutcome> {
  switch (run.state.phase) {
    case 'list':
      return listPhase(job, run);
    case 'export':
      return exportPhase(job, run);
    case 'wait':
    case 'stream':
      return downloadPhase(job, run);
    case 'done':
      return Promise.resolve(PHASE_DONE);
  }
}
