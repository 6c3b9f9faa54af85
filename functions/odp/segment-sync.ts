import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { BrazeExportClient } from '../braze/export-client';
import { brazeSettings } from '../braze/settings';
import type { JobStepEvent, JobStepResult } from '../core/catalogue-types';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { BridgeError, ValidationError } from '../core/errors';
import { type JobStateStore, jobStateStoreFromEnv } from '../core/job-state';
import { MetricName, MetricUnit } from '../core/observability';
import { createPacer } from '../core/rate-limit';
import { requireSecret } from '../core/secrets';
import { odpJobs } from './catalogue';
import { fieldMap, fieldsToExport } from './profile-map';
import { OdpProfilesClient } from './profiles-client';
import { parseFieldMappings, parseSegmentSelection } from './segment-selection';
import { odpSettings } from './settings';
import type { SyncJob, SyncRun } from './sync-job';
import { runPhase } from './sync-phases';
import { loadSyncState, progressOf, type SyncProgress, type SyncState } from './sync-state';

export { ExportNotReadyError } from './sync-phases';
export { SYNC_STATE_VERSION, type SyncProgress, type SyncState, type SyncTotals } from './sync-state';

/** A step starts no call later than this before its Lambda timeout; it saves and hands over to the next step. */
export const STEP_SAFETY_MARGIN_MS = 60_000;
/** A call's retries end this long before the Lambda timeout. */
const CALL_MARGIN_MS = 20_000;

export interface SegmentSyncOptions {
  /** Where runs save their state (AWS: the job state table from JOB_STATE_TABLE_NAME). */
  store?: JobStateStore;
  /** Downloads the export (the presigned URL takes no credential); tests pass their own. */
  fetch?: typeof fetch;
  /** Called after every change of phase and every ODP call (the local command draws its progress bar from it). */
  onProgress?: (progress: SyncProgress) => void;
}

/** The sync's clients and settings, from the deps (the settings are read once, at cold start). */
export function syncJobOf(deps: Deps, options: Pick<SegmentSyncOptions, 'fetch'> = {}): SyncJob {
  const settings = settingsOf(deps, odpSettings);
  const braze = settingsOf(deps, brazeSettings);
  const map = fieldMap(settings.ODP_FIELD_MAPPINGS ? parseFieldMappings(settings.ODP_FIELD_MAPPINGS) : {});
  return {
    braze: new BrazeExportClient({
      endpoint: requireSetting(braze, 'BRAZE_REST_ENDPOINT'),
      apiKey: () => requireSecret(deps.secrets, 'braze', 'api_key'),
      http: deps.http,
      download: options.fetch,
    }),
    odp: new OdpProfilesClient({
      apiUrl: requireSetting(settings, 'ODP_API_URL'),
      apiKey: () => requireSecret(deps.secrets, 'odp', 'api_key'),
      http: deps.http,
      pace: createPacer(settings.ODP_PROFILE_CALLS_PER_SECOND, deps.clock),
    }),
    clock: deps.clock,
    logger: deps.logger,
    metrics: deps.metrics,
    selection: parseSegmentSelection(settings.ODP_SEGMENTS),
    map,
    fields: fieldsToExport(map),
    batchSize: settings.ODP_MAX_OBJECTS_PER_REQUEST,
    exportPollSeconds: settings.ODP_EXPORT_POLL_SECONDS,
    exportMaxWaitMinutes: settings.ODP_EXPORT_MAX_WAIT_MINUTES,
  };
}

/**
 * One step of the nightly sync (seed 004): Braze `GET /segments/list` (every page) -> the segments
 * ODP_SEGMENTS selects -> `POST /users/export/segment` (zip) -> wait until the download URL answers
 * -> its files streamed line by line -> ODP profiles (default map plus ODP_FIELD_MAPPINGS) ->
 * `POST {ODP_API_URL}/v3/profiles`, at most ODP_MAX_OBJECTS_PER_REQUEST (500) per call and
 * ODP_PROFILE_CALLS_PER_SECOND (10) calls per second, one call at a time; 429/5xx retried by
 * HttpClient. A call ODP refuses (400) is split in halves down to the profile it refuses, which is
 * counted as rejected (by position, never by value). The phases are in sync-phases.ts; the Braze
 * calls in functions/braze/export-client.ts, the ODP ones in profiles-client.ts.
 *
 * Resumable: the run's state is saved after every ODP call, so a step that dies (crash, Lambda
 * timeout) is retried from its last saved position, re-sending at most the call in flight. A step
 * stops STEP_SAFETY_MARGIN_MS before its deadline, saves and answers `continue`; while the export
 * is not ready it answers `wait`. The saved state is checked on load (sync-state.ts): one saved by
 * another version of the code fails the step by name before any call. AWS: a Step Functions state
 * machine loops over it (the Wait costs no Lambda time); locally `npm run sync:odp` does.
 */
export function build(deps: Deps, options: SegmentSyncOptions = {}) {
  const job = syncJobOf(deps, options);
  let store = options.store;

  async function step(event: JobStepEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<JobStepResult> {
    const runId = event?.runId;
    if (typeof runId !== 'string' || runId === '') throw new ValidationError('runId: a step needs the run it belongs to');
    store ??= jobStateStoreFromEnv(deps.config);
    const end = job.clock.now() + context.getRemainingTimeInMillis();
    const state = await loadSyncState(store, deps.flowId, runId, job.clock.now()).catch((error: unknown) => {
      throw logFailure(job, runId, undefined, error);
    });
    const checkpointed = store;
    const save = () => checkpointed.save(deps.flowId, runId, state);
    const controller = new AbortController();
    const run: SyncRun = {
      state,
      checkpoint: async () => {
        await save();
        options.onProgress?.(progressOf(state));
      },
      workUntil: end - STEP_SAFETY_MARGIN_MS,
      deadline: end - CALL_MARGIN_MS,
      signal: controller.signal,
    };
    const calls = state.totals.requests;
    try {
      return await runStep(job, run, runId, save);
    } catch (error) {
      throw logFailure(job, runId, state, error);
    } finally {
      controller.abort();
      const made = state.totals.requests - calls;
      if (made > 0) job.logger.info('segment sync step', { runId, phase: state.phase, calls: made, profilesSent: state.totals.profilesSent });
    }
  }

  return middy<JobStepEvent, JobStepResult>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(deps.metrics))
    .handler(step);
}

/** Runs phase after phase until the run is done, or the step must hand over (`continue`, `wait`). */
async function runStep(job: SyncJob, run: SyncRun, runId: string, save: () => Promise<void>): Promise<JobStepResult> {
  while (run.state.phase !== 'done') {
    if (job.clock.now() >= run.workUntil) return { runId, status: 'continue' };
    const outcome = await runPhase(job, run);
    if (outcome.next === 'continue') return { runId, status: 'continue' };
    if (outcome.next === 'wait') return { runId, status: 'wait', waitSeconds: outcome.waitSeconds };
    await run.checkpoint();
  }
  return finish(job, run.state, runId, save);
}

/** The run is done: its summary logged and emitted as metrics (again on a repeated last step). */
async function finish(job: SyncJob, state: SyncState, runId: string, save: () => Promise<void>): Promise<JobStepResult> {
  state.finishedAt ??= job.clock.now();
  await save();
  const summary = { ...state.totals, seconds: Math.round((state.finishedAt - state.startedAt) / 1000) };
  job.logger.info('segment sync finished', { runId, ...summary });
  job.metrics.addMetric(MetricName.SyncSegments, MetricUnit.Count, summary.segments);
  job.metrics.addMetric(MetricName.SyncUsersRead, MetricUnit.Count, summary.usersRead);
  job.metrics.addMetric(MetricName.SyncProfilesSent, MetricUnit.Count, summary.profilesSent);
  job.metrics.addMetric(MetricName.SyncProfilesRejected, MetricUnit.Count, summary.rejected);
  job.metrics.addMetric(MetricName.SyncRunSeconds, MetricUnit.Seconds, summary.seconds);
  return { runId, status: 'done', summary };
}

/** Logs where the step failed (never a value, a URL or a key) and returns the error to throw. */
function logFailure(job: SyncJob, runId: string, state: SyncState | undefined, error: unknown): unknown {
  job.logger.error('segment sync step failed', {
    runId,
    phase: state?.phase,
    segmentId: state?.segments[state.segment]?.id,
    entry: state?.position.entry,
    line: state?.position.line,
    errorName: error instanceof Error ? error.name : 'unknown',
    // Our own messages name a segment, a status, a setting or a state's field; never a value, a URL or a key.
    reason: error instanceof BridgeError ? error.message : undefined,
  });
  return error;
}

export const handler = lazyHandler(odpJobs, (deps) => build(deps));
