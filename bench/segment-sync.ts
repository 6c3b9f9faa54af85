import { runScheduledJob } from '../local/run-scheduled-job';

export interface SegmentSyncFigure {
  users: number;
  profilesSent: number;
  requests: number;
  seconds: number;
  usersPerSecond: number;
  peakRssMb: number;
  callsPerSecond: number;
}

/**
 * The ODP segment sync (`npm run sync:odp`'s code path) of one `users`-user Braze segment through
 * the sandboxes: Braze's lists it, exports it as a zip generated as it is read, ODP's takes the
 * profiles (always the sandboxes: BRAZE_* and ODP_* URLs from the environment are ignored here).
 * `callsPerSecond` is ODP_PROFILE_CALLS_PER_SECOND: at ODP's 10, 500 profiles a call cap the run
 * at 5,000 users/s whatever the machine. Seconds include the export's one-second wait.
 */
export async function benchSegmentSync(users: number, callsPerSecond = 10): Promise<SegmentSyncFigure> {
  const before = process.env.BRAZE_SANDBOX_SEGMENT_USERS;
  process.env.BRAZE_SANDBOX_SEGMENT_USERS = String(users); // read by the Braze sandbox's export
  try {
    const figures = await runScheduledJob({
      job: 'odp-segment-sync',
      env: { LOG_LEVEL: 'SILENT', ODP_SEGMENTS: 'sandbox-all-users', ODP_PROFILE_CALLS_PER_SECOND: String(callsPerSecond) },
      log: () => undefined,
      // The sandbox keeps its last 1,000 bodies by default (~900 calls of 500 profiles here): keep
      // 10, so the peak RSS is the sync's and the export's, not the recorder's.
      sandboxBodies: 10,
    });
    const read = figures.summary.usersRead ?? 0;
    return {
      users: read,
      profilesSent: figures.summary.profilesSent ?? 0,
      requests: figures.summary.requests ?? 0,
      seconds: figures.seconds,
      usersPerSecond: figures.seconds > 0 ? read / figures.seconds : read,
      peakRssMb: figures.peakRssMb,
      callsPerSecond,
    };
  } finally {
    if (before === undefined) delete process.env.BRAZE_SANDBOX_SEGMENT_USERS;
    else process.env.BRAZE_SANDBOX_SEGMENT_USERS = before;
  }
}
