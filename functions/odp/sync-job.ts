import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { BrazeExportClient } from '../braze/export-client';
import type { Clock } from '../core/clock';
import type { OdpProfilesClient } from './profiles-client';
import type { SegmentSelection } from './segment-selection';
import type { SyncState } from './sync-state';

/** What every step of the sync works with, built once per module from the settings and the deps. */
export interface SyncJob {
  braze: BrazeExportClient;
  odp: OdpProfilesClient;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** ODP_SEGMENTS, parsed. */
  selection: SegmentSelection;
  /** The map from a Braze export line to an ODP profile (default plus ODP_FIELD_MAPPINGS). */
  map: Readonly<Record<string, string>>;
  /** Braze fields the export holds (what `map` reads). */
  fields: readonly string[];
  /** Profiles per ODP call (ODP_MAX_OBJECTS_PER_REQUEST). */
  batchSize: number;
  /** ODP_EXPORT_POLL_SECONDS and ODP_EXPORT_MAX_WAIT_MINUTES. */
  exportPollSeconds: number;
  exportMaxWaitMinutes: number;
}

/** One step's hold on the run: its state, how to checkpoint it, and its time. */
export interface SyncRun {
  state: SyncState;
  /** Saves the state and reports progress. */
  checkpoint: () => Promise<void>;
  /** No new work (a list, an export, a batch) starts after this. */
  workUntil: number;
  /** A call started before `workUntil` may retry until this, still well inside the Lambda timeout. */
  deadline: number;
  /** Aborted when the step ends (closes an open download). */
  signal: AbortSignal;
}

/** How a phase ended: the run moved on (save and go on), or the step hands over. */
export type PhaseOutcome = { next: 'phase' } | { next: 'continue' } | { next: 'wait'; waitSeconds: number };
