import { brazeSettings } from '../functions/braze/settings';
import { catalogue } from '../functions/catalogue';

import { loadSettings } from '../functions/core/settings';
import { startRunner } from '../local/runner';

/** The consumer of the Braze bulk lane, which Lytics audience backfills feed (its metrics carry this flow). */
const BULK_CONSUMER_FLOW = catalogue.queue('braze-track-bulk').consumer.flowId;

export interface BackfillFigure {
  records: number;
  requests: number;
  brazeCalls: number;
  minimumCalls: number;
  averageObjectsPerCall: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMb: number;
}

/** The POST bodies of a Lytics audience backfill: `records` users, `perRequest` per request, each added to one segment. */
export function audienceBodies(records: number, perRequest = 1_000) {
  return Array.from({ length: Math.ceil(records / perRequest) }, (_, r) => ({
    lytics_to_braze_audience: Array.from({ length: Math.min(perRequest, records - r * perRequest) }, (_, i) => ({
      external_id: `bench-${r * perRequest + i}`,
      lytics_segments: { add: ['lytics_all'] },
    })),
  }));
}

/**
 * A Lytics audience backfill of `records` records (one per user, `perRequest` per POST, 8 POSTs
 * in flight) through the local runner (its queues in `dataDir`, `:memory:` for none) into the Braze sandbox: Braze calls made against the
 * minimum ceil(N / max objects), records per second end to end, and the process's peak RSS.
 */
export async function benchBackfill(records: number, dataDir: string, perRequest = 1_000): Promise<BackfillFigure> {
  const runner = await startRunner({ env: { ...process.env, PORT: '0', LOG_LEVEL: 'SILENT', DATA_DIR: dataDir }, log: () => undefined });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  try {
    const bodies = audienceBodies(records, perRequest);
    const started = performance.now();
    let next = 0;
    const sender = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const response = await fetch(`${runner.url}/lytics/audiences`, {
          method: 'POST',
          headers: { authorization: `Bearer ${runner.inboundToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        if (response.status !== 202) throw new Error(`ingress answered ${response.status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    // Counted by the consumer itself (its RecordsDelivered metric): the sandbox keeps the bodies of
    // its last 1,000 requests only, so counting objects in bodies failed past ~75,000 records.
    const delivered = () => runner.metricCounts(BULK_CONSUMER_FLOW).RecordsDelivered ?? 0;
    while (delivered() < records) {
      if (performance.now() - started > 300_000) throw new Error(`only ${delivered()} of ${records} delivered after 5 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const seconds = (performance.now() - started) / 1000;
    const calls = runner.sandbox.requests.filter((r) => r.destination === 'braze').length;
    return {
      records,
      requests: bodies.length,
      brazeCalls: calls,
      minimumCalls: Math.ceil(records / loadSettings(brazeSettings, runner.config.env).BRAZE_MAX_OBJECTS_PER_REQUEST),
      averageObjectsPerCall: records / calls,
      seconds,
      recordsPerSecond: records / seconds,
      peakRssMb: peakRss / 1024 / 1024,
    };
  } finally {
    clearInterval(sampler);
    await runner.stop();
  }
}
