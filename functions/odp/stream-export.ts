import { parseJson } from '../braze/export-client';
import { MetricName, MetricUnit } from '../core/observability';
import { type ExportLine, type ExportPosition, newExportCounters, readExportLines } from './export-reader';
import { type OdpProfile, toOdpProfile } from './profile-map';
import type { SyncJob, SyncRun } from './sync-job';

/** Lines read since the last ODP call: the profiles they gave, and where the next line starts. */
class PendingBatch {
  profiles: OdpProfile[] = [];
  lines = 0;
  skipped = 0;
  first: ExportPosition | undefined;

  constructor(public after: ExportPosition) {}

  add(line: ExportLine, profile: OdpProfile | undefined): void {
    this.first ??= line;
    this.lines += 1;
    this.after = { entry: line.entry, line: line.line + 1 };
    if (profile) this.profiles.push(profile);
    else this.skipped += 1;
  }

  clear(): void {
    this.profiles = [];
    this.lines = 0;
    this.skipped = 0;
    this.first = undefined;
  }
}

/** One export line as an ODP profile; undefined for a line that is not a JSON object or maps to no identifier. */
function profileOf(line: ExportLine, map: SyncJob['map']): OdpProfile | undefined {
  const user = parseJson(line.text);
  const isObject = typeof user === 'object' && user !== null && !Array.isArray(user);
  return isObject ? toOdpProfile(user as Record<string, unknown>, map) : undefined;
}

/** Sends the batch, adds what came of it to the totals, moves the position past it and checkpoints. */
async function flush(job: SyncJob, run: SyncRun, batch: PendingBatch): Promise<void> {
  const at = batch.first ?? batch.after;
  const onRefused = (status: number | undefined) => job.logger.warn('odp refused a profile', { status, entry: at.entry, line: at.line });
  const sent = await job.odp.send(batch.profiles, { deadline: run.deadline, onRefused });
  const totals = run.state.totals;
  totals.profilesSent += batch.profiles.length - sent.rejected;
  totals.rejected += sent.rejected;
  totals.requests += sent.requests;
  totals.usersRead += batch.lines;
  totals.skipped += batch.skipped;
  run.state.position = batch.after;
  job.metrics.addMetric(MetricName.DownstreamCalls, MetricUnit.Count, sent.requests);
  batch.clear();
  await run.checkpoint();
}

/**
 * Streams the current segment's export from the saved position to ODP, a batch per call, until it
 * ends (true) or `workUntil` comes (false). Checkpoints after every call, so a retried step re-sends
 * at most the call in flight.
 */
export async function streamExport(job: SyncJob, run: SyncRun, body: AsyncIterable<Uint8Array>): Promise<boolean> {
  const counters = newExportCounters();
  const batch = new PendingBatch(run.state.position);
  for await (const line of readExportLines(body, run.state.position, counters)) {
    if (batch.profiles.length === 0 && job.clock.now() >= run.workUntil) return false;
    batch.add(line, profileOf(line, job.map));
    if (batch.profiles.length >= job.batchSize) {
      await flush(job, run, batch);
      if (job.clock.now() >= run.workUntil) return false;
    }
  }
  // Lines read since the last call (skipped users, the last profiles): settle them too.
  if (batch.lines > 0) await flush(job, run, batch);
  const segment = run.state.segments[run.state.segment]!;
  job.logger.info('segment synced', { segmentId: segment.id, entries: counters.entries, compressedBytes: counters.compressedBytes });
  return true;
}
