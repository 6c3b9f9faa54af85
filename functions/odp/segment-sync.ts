import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { brazeSettings } from '../braze/settings';
import type { JobStepEvent, JobStepResult } from '../core/catalogue-types';
import { type Deps, lazyHandler, requireSetting, settingsOf } from '../core/deps';
import { BridgeError, ConfigError, PermanentDeliveryError, RetryableDeliveryError, ValidationError } from '../core/errors';
import { joinUrl } from '../core/http';
import { type JobStateStore, jobStateStoreFromEnv } from '../core/job-state';
import { MetricName, MetricUnit } from '../core/observability';
import { createPacer } from '../core/rate-limit';
import { requireSecret } from '../core/secrets';
import { type ExportPosition, newExportCounters, readExportLines } from './export-reader';
import { fieldMap, fieldsToExport, type OdpProfile, toOdpProfile } from './profile-map';
import { type BrazeSegment, parseFieldMappings, parseSegmentSelection, selectSegments } from './segment-selection';
import { odpSettings } from './settings';

export const FLOW_ID = 'odp-segment-sync';
/** A step starts no call later than this before its Lambda timeout; it saves and hands over to the next step. */
export const STEP_SAFETY_MARGIN_MS = 60_000;
/** A call's retries end this long before the Lambda timeout. */
const CALL_MARGIN_MS = 20_000;
/** Braze lists 100 segments per page. */
const SEGMENTS_PER_PAGE = 100;
/** A list longer than this many pages is a loop, not a workspace. */
const MAX_SEGMENT_PAGES = 1_000;
/** An export URL that stopped answering mid-run (it expired) is asked for again at most this many times per segment. */
const MAX_EXPORTS_PER_SEGMENT = 3;

export interface SyncTotals {
  /** Segments read to the end. */
  segments: number;
  /** Export lines read (users), skipped and rejected ones included. */
  usersRead: number;
  /** Profiles ODP accepted. */
  profilesSent: number;
  /** Profiles ODP refused (a 400 on the profile alone). */
  rejected: number;
  /** Users with no ODP identifier after mapping (no email, say), or lines that are not JSON objects. */
  skipped: number;
  /** /v3/profiles calls that succeeded. */
  requests: number;
}

/** What the job state table holds for a run: where it is and what it did, never a profile. */
export interface SyncState {
  version: 1;
  startedAt: number;
  phase: 'list' | 'export' | 'wait' | 'stream' | 'done';
  segments: BrazeSegment[];
  /** The segment being exported or streamed (index in `segments`). */
  segment: number;
  /** Braze's download URL of the current export (presigned: kept in the table, never logged). */
  exportUrl?: string;
  exportRequestedAt?: number;
  /** Exports asked for the current segment (a second one when the first URL expired mid-run). */
  exports: number;
  /** The next line to read in the current export. */
  position: ExportPosition;
  totals: SyncTotals;
  finishedAt?: number;
}

export interface SyncProgress extends SyncTotals {
  phase: SyncState['phase'];
  /** 1-based index of the segment at work, and how many were selected. */
  segmentNumber: number;
  segmentCount: number;
  segmentName?: string;
}

export interface SegmentSyncOptions {
  /** Where runs save their state (AWS: the job state table from JOB_STATE_TABLE_NAME). */
  store?: JobStateStore;
  /** Downloads the export (the presigned URL takes no credential); tests pass their own. */
  fetch?: typeof fetch;
  /** Called after every change of phase and every ODP call (the local command draws its progress bar from it). */
  onProgress?: (progress: SyncProgress) => void;
}

const segmentsPageSchema = z.object({ segments: z.array(z.object({ id: z.string().check(z.minLength(1)), name: z.string() })) });
const exportAnswerSchema = z.object({ url: z.optional(z.nullable(z.string())), object_prefix: z.optional(z.string()) });

/** The export never became ready: names the segment and how long it waited. */
export class ExportNotReadyError extends BridgeError {}

/**
 * One step of the nightly sync (seed 004): Braze `GET /segments/list` (every page) -> the segments
 * ODP_SEGMENTS selects -> `POST /users/export/segment` (zip) -> wait until the download URL answers
 * -> its files streamed line by line -> ODP profiles (default map plus ODP_FIELD_MAPPINGS) ->
 * `POST {ODP_API_URL}/v3/profiles`, at most ODP_MAX_OBJECTS_PER_REQUEST (500) per call and
 * ODP_PROFILE_CALLS_PER_SECOND (10) calls per second, one call at a time; 429/5xx retried by
 * HttpClient. A call ODP refuses (400) is split in halves down to the profile it refuses, which is
 * counted as rejected (by position, never by value).
 *
 * Resumable: the run's state is saved after every ODP call, so a step that dies (crash, Lambda
 * timeout) is retried from its last saved position, re-sending at most the call in flight. A step
 * stops STEP_SAFETY_MARGIN_MS before its deadline, saves and answers `continue`; while the export
 * is not ready it answers `wait`. AWS: a Step Functions state machine loops over it (the Wait
 * costs no Lambda time); locally `npm run sync:odp` does.
 */
export function build(deps: Deps, options: SegmentSyncOptions = {}) {
  const { logger, metrics, clock } = deps;
  const settings = settingsOf(deps, odpSettings);
  const braze = settingsOf(deps, brazeSettings);
  const brazeEndpoint = requireSetting(braze, 'BRAZE_REST_ENDPOINT');
  const profilesUrl = joinUrl(requireSetting(settings, 'ODP_API_URL'), 'v3/profiles');
  const selection = parseSegmentSelection(settings.ODP_SEGMENTS);
  const map = fieldMap(settings.ODP_FIELD_MAPPINGS ? parseFieldMappings(settings.ODP_FIELD_MAPPINGS) : {});
  const fields = fieldsToExport(map);
  const batchSize = settings.ODP_MAX_OBJECTS_PER_REQUEST;
  const pace = createPacer(settings.ODP_PROFILE_CALLS_PER_SECOND, clock);
  const download = options.fetch ?? fetch;
  let store = options.store;

  const brazeKey = () => requireSecret(deps.secrets, 'braze', 'api_key');
  const brazeHeaders = async () => ({ authorization: `Bearer ${await brazeKey()}`, 'content-type': 'application/json' });

  const progress = (state: SyncState) => {
    const segment = state.segments[state.segment];
    options.onProgress?.({
      ...state.totals,
      phase: state.phase,
      segmentNumber: Math.min(state.segment + 1, state.segments.length),
      segmentCount: state.segments.length,
      segmentName: segment?.name,
    });
  };

  async function listSegments(deadline: number): Promise<BrazeSegment[]> {
    const all: BrazeSegment[] = [];
    for (let page = 0; page < MAX_SEGMENT_PAGES; page++) {
      const response = await deps.http.send(
        { method: 'GET', url: joinUrl(brazeEndpoint, `segments/list?page=${page}&sort_direction=asc`), headers: await brazeHeaders() },
        { label: 'braze segments list', deadline },
      );
      const parsed = z.safeParse(segmentsPageSchema, safeJson(response.text));
      if (!parsed.success) throw new ValidationError(`Braze /segments/list page ${page}: not a segment list (segments[].id and .name expected)`);
      all.push(...parsed.data.segments.map(({ id, name }) => ({ id, name })));
      if (parsed.data.segments.length < SEGMENTS_PER_PAGE) return all;
    }
    throw new ValidationError(`Braze /segments/list: more than ${MAX_SEGMENT_PAGES} pages`);
  }

  async function requestExport(segment: BrazeSegment, deadline: number): Promise<string> {
    const response = await deps.http.send(
      {
        method: 'POST',
        url: joinUrl(brazeEndpoint, 'users/export/segment'),
        headers: await brazeHeaders(),
        body: JSON.stringify({ segment_id: segment.id, fields_to_export: fields, output_format: 'zip' }),
      },
      { label: 'braze users export segment', deadline },
    );
    const parsed = z.safeParse(exportAnswerSchema, safeJson(response.text));
    if (!parsed.success) throw new ValidationError(`Braze /users/export/segment for segment ${segment.id}: unexpected answer`);
    if (!parsed.data.url) {
      throw new ConfigError(
        `Braze wrote the export of segment ${segment.id} to the cloud storage configured in Braze (no download URL in its answer); ` +
          'this job reads the download URL Braze returns when no export storage is configured',
      );
    }
    return parsed.data.url;
  }

  /**
   * Opens the download: its body when it answers 200; `missing` on 403/404 (not there yet, or no
   * longer: presigned URLs expire); `unavailable` on 429/5xx or a network error.
   */
  async function openExport(url: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array> | 'missing' | 'unavailable'> {
    let response: Response;
    try {
      response = await download(url, { signal });
    } catch {
      return 'unavailable';
    }
    if (response.ok && response.body) return response.body as unknown as AsyncIterable<Uint8Array>;
    await response.body?.cancel();
    if (response.status === 403 || response.status === 404) return 'missing';
    if (response.status === 429 || response.status >= 500) return 'unavailable';
    throw new PermanentDeliveryError(`the export download answered ${response.status}`, response.status);
  }

  /** Sends profiles; a refused call is split until the refused profile is alone. Returns how many ODP refused. */
  async function sendProfiles(profiles: readonly OdpProfile[], key: string, deadline: number, at: ExportPosition, sent: { requests: number }): Promise<number> {
    await pace();
    try {
      await deps.http.send(
        { method: 'POST', url: profilesUrl, headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(profiles) },
        { label: 'odp profiles', deadline },
      );
      sent.requests += 1;
      return 0;
    } catch (error) {
      const refused = error instanceof PermanentDeliveryError && (error.status === 400 || error.status === 413 || error.status === 422);
      if (!refused) throw error;
      if (profiles.length === 1) {
        logger.warn('odp refused a profile', { status: error.status, entry: at.entry, line: at.line });
        return 1;
      }
      const half = Math.ceil(profiles.length / 2);
      return (
        (await sendProfiles(profiles.slice(0, half), key, deadline, at, sent)) + (await sendProfiles(profiles.slice(half), key, deadline, at, sent))
      );
    }
  }

  /**
   * Streams the current export from the saved position until it ends (true) or `workUntil` comes
   * (false). Saves after every call.
   */
  async function streamExport(state: SyncState, body: AsyncIterable<Uint8Array>, workUntil: number, deadline: number, save: () => Promise<void>): Promise<boolean> {
    const key = await requireSecret(deps.secrets, 'odp', 'api_key');
    const counters = newExportCounters();
    const segment = state.segments[state.segment]!;
    let batch: OdpProfile[] = [];
    let linesInBatch = 0;
    let skippedInBatch = 0;
    let firstOfBatch: ExportPosition | undefined;
    let after: ExportPosition = state.position;

    const flush = async () => {
      const sent = { requests: 0 };
      const rejected = batch.length > 0 ? await sendProfiles(batch, key, deadline, firstOfBatch ?? after, sent) : 0;
      state.totals.profilesSent += batch.length - rejected;
      state.totals.rejected += rejected;
      state.totals.requests += sent.requests;
      state.totals.usersRead += linesInBatch;
      state.totals.skipped += skippedInBatch;
      state.position = after;
      metrics.addMetric(MetricName.DownstreamCalls, MetricUnit.Count, sent.requests);
      batch = [];
      linesInBatch = 0;
      skippedInBatch = 0;
      firstOfBatch = undefined;
      await save();
      progress(state);
    };

    for await (const line of readExportLines(body, state.position, counters)) {
      if (batch.length === 0 && clock.now() >= workUntil) return false;
      firstOfBatch ??= line;
      linesInBatch++;
      after = { entry: line.entry, line: line.line + 1 };
      const user = safeJson(line.text);
      const profile = typeof user === 'object' && user !== null && !Array.isArray(user) ? toOdpProfile(user as Record<string, unknown>, map) : undefined;
      if (profile) batch.push(profile);
      else skippedInBatch++;
      if (batch.length >= batchSize) {
        await flush();
        if (clock.now() >= workUntil) return false;
      }
    }
    // Lines read since the last call (skipped users, the last profiles): settle them too.
    if (linesInBatch > 0) await flush();
    logger.info('segment synced', { segmentId: segment.id, entries: counters.entries, compressedBytes: counters.compressedBytes });
    return true;
  }

  async function step(event: JobStepEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<JobStepResult> {
    const runId = event?.runId;
    if (typeof runId !== 'string' || runId === '') throw new ValidationError('runId: a step needs the run it belongs to');
    store ??= jobStateStoreFromEnv(deps.config);
    const end = clock.now() + context.getRemainingTimeInMillis();
    // No new work (a list, an export, a batch) starts after `workUntil`; a call started before it
    // may retry until `deadline`, still well inside the Lambda timeout.
    const workUntil = end - STEP_SAFETY_MARGIN_MS;
    const deadline = end - CALL_MARGIN_MS;
    const state: SyncState = (await store.load<SyncState>(FLOW_ID, runId)) ?? {
      version: 1,
      startedAt: clock.now(),
      phase: 'list',
      segments: [],
      segment: 0,
      exports: 0,
      position: { entry: 0, line: 0 },
      totals: { segments: 0, usersRead: 0, profilesSent: 0, rejected: 0, skipped: 0, requests: 0 },
    };
    const save = () => store!.save(FLOW_ID, runId, state);
    const nextSegment = () => {
      state.totals.segments += 1;
      state.segment += 1;
      state.exportUrl = undefined;
      state.exportRequestedAt = undefined;
      state.exports = 0;
      state.position = { entry: 0, line: 0 };
      state.phase = state.segment < state.segments.length ? 'export' : 'done';
    };
    const controller = new AbortController();
    const calls = state.totals.requests;

    try {
      while (state.phase !== 'done') {
        if (clock.now() >= workUntil) return { runId, status: 'continue' };
        const segment = state.segments[state.segment];
        switch (state.phase) {
          case 'list': {
            const { selected, unmatched } = selectSegments(await listSegments(deadline), selection);
            if (unmatched.length > 0) logger.warn('ODP_SEGMENTS names segments Braze does not list', { unmatched: unmatched.length });
            if (selected.length === 0) logger.warn('no segment selected: nothing to sync (check ODP_SEGMENTS)', { setting: settings.ODP_SEGMENTS === 'all' ? 'all' : 'listed' });
            state.segments = selected;
            state.phase = selected.length > 0 ? 'export' : 'done';
            logger.info('segments selected', { count: selected.length, ids: selected.map((s) => s.id) });
            break;
          }
          case 'export': {
            if (state.exports >= MAX_EXPORTS_PER_SEGMENT) {
              throw new ExportNotReadyError(`segment ${segment!.id}: its export URL stopped answering ${state.exports} times`);
            }
            state.exportUrl = await requestExport(segment!, deadline);
            state.exportRequestedAt = clock.now();
            state.exports += 1;
            state.position = { entry: 0, line: 0 };
            state.phase = 'wait';
            logger.info('export requested', { segmentId: segment!.id });
            break;
          }
          case 'wait':
          case 'stream': {
            const body = await openExport(state.exportUrl!, controller.signal);
            if (body === 'unavailable' && state.phase === 'stream') {
              // A passing fault of the storage: fail the step; its retry resumes from the saved position.
              throw new RetryableDeliveryError(`segment ${segment!.id}: the export download is unavailable`);
            }
            if (body === 'missing' && state.phase === 'stream') {
              // It answered before and no longer does (presigned URLs expire): export again, from the start.
              logger.warn('export URL no longer answers: exporting the segment again', { segmentId: segment!.id, entry: state.position.entry, line: state.position.line });
              state.phase = 'export';
              break;
            }
            if (typeof body === 'string') {
              const waitedMs = clock.now() - (state.exportRequestedAt ?? clock.now());
              if (waitedMs >= settings.ODP_EXPORT_MAX_WAIT_MINUTES * 60_000) {
                throw new ExportNotReadyError(
                  `segment ${segment!.id}: Braze's export was not ready after ${Math.round(waitedMs / 60_000)} minutes (ODP_EXPORT_MAX_WAIT_MINUTES=${settings.ODP_EXPORT_MAX_WAIT_MINUTES})`,
                );
              }
              await save();
              progress(state);
              return { runId, status: 'wait', waitSeconds: Math.max(1, Math.round(settings.ODP_EXPORT_POLL_SECONDS)) };
            }
            if (state.phase === 'wait') {
              state.phase = 'stream';
              await save();
              progress(state);
            }
            const finished = await streamExport(state, body, workUntil, deadline, save);
            if (!finished) return { runId, status: 'continue' };
            nextSegment();
            break;
          }
        }
        await save();
        progress(state);
      }

      state.finishedAt ??= clock.now();
      await save();
      const summary = { ...state.totals, seconds: Math.round((state.finishedAt - state.startedAt) / 1000) };
      logger.info('segment sync finished', { runId, ...summary });
      metrics.addMetric(MetricName.SyncSegments, MetricUnit.Count, summary.segments);
      metrics.addMetric(MetricName.SyncUsersRead, MetricUnit.Count, summary.usersRead);
      metrics.addMetric(MetricName.SyncProfilesSent, MetricUnit.Count, summary.profilesSent);
      metrics.addMetric(MetricName.SyncProfilesRejected, MetricUnit.Count, summary.rejected);
      metrics.addMetric(MetricName.SyncRunSeconds, MetricUnit.Seconds, summary.seconds);
      return { runId, status: 'done', summary };
    } catch (error) {
      logger.error('segment sync step failed', {
        runId,
        phase: state.phase,
        segmentId: state.segments[state.segment]?.id,
        entry: state.position.entry,
        line: state.position.line,
        errorName: error instanceof Error ? error.name : 'unknown',
        // Our own messages name a segment, a status or a setting; never a value, a URL or a key.
        reason: error instanceof BridgeError ? error.message : undefined,
      });
      throw error;
    } finally {
      controller.abort();
      const made = state.totals.requests - calls;
      if (made > 0) logger.info('segment sync step', { runId, phase: state.phase, calls: made, profilesSent: state.totals.profilesSent });
    }
  }

  return middy<JobStepEvent, JobStepResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(step);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const handler = lazyHandler(FLOW_ID, (deps) => build(deps));
