import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BRAZE_MAX_OBJECTS_PER_TRACK } from '../functions/braze/limits';
import { catalogue } from '../functions/catalogue';
import { BrazeStandIn } from './support/braze-stand-in';
import { type BridgeProcess, startBridgeProcess } from './support/bridge-process';
import { printProfileAreas } from './support/profile-areas';

/** The Braze bulk lane, which Lytics audience backfills feed. */
const BULK_QUEUE = catalogue.queue('braze-track-bulk').id;
const TOKEN = 'bench-inbound-token';
const SEEN_VIDEO = 'https://motions.seen.io/298abdcf-1f0f-46e7-9c26-a35b4c1e83cc/d3c1dffdf063986ad521a63e3e68fd7d1100c90a';
/** A SEEN "video ready" callback, as SEEN's legacy API sends it. */
const SEEN_CALLBACK = {
  campaign_slug: 'onboarding',
  landing_page_url: 'your.subdomain.com/v/12345',
  video_url: `${SEEN_VIDEO}/output.m3u8`,
  thumbnail_url: `${SEEN_VIDEO}/thumbnail.jpg`,
  email_thumbnail_url: `${SEEN_VIDEO}/email_thumbnail.jpg`,
};

interface BackfillFigure {
  records: number;
  requests: number;
  brazeCalls: number;
  minimumCalls: number;
  averageObjectsPerCall: number;
  /** First POST to the last Braze call. */
  seconds: number;
  recordsPerSecond: number;
  /** The first Braze call to the last one (how Braze's importer is timed). */
  callSeconds: number;
  /** What the bridge's console state says its bulk consumer delivered (RecordsDelivered). */
  deliveredByConsole: number;
  /** Peak RSS of the bridge process alone (VmHWM), MB. */
  peakRssMb?: number;
  /** CPU seconds the bridge process used from the first POST to the last Braze call. */
  cpuSeconds?: number;
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
 * POSTs the bodies to the bridge, `inFlight` at a time; each must be answered 202. Bodies given as
 * strings are sent as they are: the backfill serialises them before its clock starts, as Braze's
 * importer reads a CSV written beforehand, so the load generator's own JSON work does not share the
 * machine's cores with the bridge during the timed run.
 */
async function postAll(bridge: BridgeProcess, route: string, bodies: readonly unknown[], inFlight = 8): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const response = await fetch(`${bridge.url}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const answer = await response.text();
      if (response.status !== 202) throw new Error(`${route} answered ${response.status}: ${answer.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, sender));
}

/** `npm start`'s environment for a bench: Braze at the stand-in, everything else sandboxed, quiet. */
function bridgeEnv(brazeUrl: string, dataDir: string): Record<string, string> {
  return { DATA_DIR: dataDir, INBOUND_TOKEN: TOKEN, LOG_LEVEL: 'SILENT', BRAZE_REST_ENDPOINT: brazeUrl, BRAZE_API_KEY: 'bench-braze-key' };
}

interface BackfillOptions {
  /** DATA_DIR of the bridge (a folder, or `:memory:`). */
  dataDir: string;
  perRequest?: number;
  /** Node flags of the bridge process (e.g. `--cpu-prof --cpu-prof-dir=DIR`). */
  nodeArgs?: readonly string[];
}

/**
 * A Lytics audience backfill of `records` records (one per user, `perRequest` per POST, 8 POSTs in
 * flight) through `npm start` run as a process of its own (local/start.ts, its queues in `dataDir`)
 * into a loopback stand-in for Braze's /users/track: records per second end to end (first POST to
 * last Braze call), Braze calls against the minimum ceil(N / 75), and the bridge process's peak RSS.
 */
async function benchBackfill(records: number, options: BackfillOptions): Promise<BackfillFigure> {
  const braze = new BrazeStandIn();
  const bridge = await startBridgeProcess(bridgeEnv(await braze.start(), options.dataDir), options.nodeArgs);
  try {
    const bodies = audienceBodies(records, options.perRequest).map((body) => JSON.stringify(body));
    const started = performance.now();
    const cpuBefore = bridge.cpuSeconds();
    await postAll(bridge, '/lytics/audiences', bodies);
    await braze.waitForObjects(records, 600_000);
    const cpuAfter = bridge.cpuSeconds();
    const seconds = (braze.lastCallAt - started) / 1000;
    return {
      records,
      requests: bodies.length,
      brazeCalls: braze.calls,
      minimumCalls: Math.ceil(records / BRAZE_MAX_OBJECTS_PER_TRACK),
      averageObjectsPerCall: braze.objects / braze.calls,
      seconds,
      recordsPerSecond: records / seconds,
      callSeconds: (braze.lastCallAt - braze.firstCallAt) / 1000,
      deliveredByConsole: await deliveredByConsole(bridge),
      peakRssMb: bridge.peakRssMb(),
      cpuSeconds: cpuAfter === undefined || cpuBefore === undefined ? undefined : cpuAfter - cpuBefore,
    };
  } finally {
    await bridge.stop();
    await braze.stop();
  }
}

/** RecordsDelivered of the bulk lane's consumer, as the running bridge's console state reports it. */
async function deliveredByConsole(bridge: BridgeProcess): Promise<number> {
  const state = (await (await fetch(`${bridge.url}/_console/state`)).json()) as { queues: { id: string; delivered: number }[] };
  return state.queues.find((q) => q.id === BULK_QUEUE)?.delivered ?? 0;
}

interface LaneLatencyFigure {
  backfillRecords: number;
  brazeMs: number;
  /** Each realtime callback's time from its POST to its arrival at Braze, ms. */
  latenciesMs: number[];
  /** Backfill objects Braze had received when the last callback arrived (fewer than backfillRecords: it went past). */
  backfillDeliveredBefore: number;
}

/**
 * The realtime lane under a backfill, through `npm start` run as a process: `backfillRecords`
 * Lytics audience records (POSTs of 500) queued on the bulk lane, Braze answering in `brazeMs`, then
 * `callbacks` SEEN callbacks one second apart into the realtime lane: each one's time from its POST
 * to its arrival at Braze.
 */
async function benchLaneLatency(backfillRecords: number, dataDir: string, brazeMs = 300, callbacks = 3): Promise<LaneLatencyFigure> {
  const braze = new BrazeStandIn(brazeMs);
  const bridge = await startBridgeProcess(bridgeEnv(await braze.start(), dataDir));
  try {
    await postAll(bridge, '/lytics/audiences', audienceBodies(backfillRecords, 500));
    const latenciesMs: number[] = [];
    let backfillDeliveredBefore = 0;
    for (let i = 0; i < callbacks; i++) {
      const id = `realtime-${i}`;
      const arrived = braze.waitFor(id);
      const posted = performance.now();
      await postAll(bridge, '/seen/callback', [{ ...SEEN_CALLBACK, customer_id: id }], 1);
      latenciesMs.push((await arrived) - posted);
      backfillDeliveredBefore = braze.objects - (i + 1);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    return { backfillRecords, brazeMs, latenciesMs, backfillDeliveredBefore };
  } finally {
    await bridge.stop();
    await braze.stop();
  }
}

/**
 * The backfill section of `npm run bench`: the backfill, then (unless `lane` is false or a profile
 * is taken) the realtime lane under a 40,000-record backfill. `dataDir` unset: a temporary folder
 * for each run, removed after; `profileDir`: the bridge writes a CPU profile there (--cpu-prof).
 */
export async function printBackfill(records: number, options: { dataDir?: string; profileDir?: string; lane?: boolean }): Promise<void> {
  const folder = () => options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'bench-data-'));
  const done = (dir: string) => options.dataDir || rmSync(dir, { recursive: true, force: true });
  const nodeArgs = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profileDir)}`] : [];
  const dir = folder();
  const b = await benchBackfill(records, { dataDir: dir, nodeArgs });
  done(dir);
  const line = (label: string, text: string) => console.log(`  ${label.padEnd(16)} ${text}`);
  console.log(
    `Lytics audience backfill through npm start (a process of its own) into a loopback Braze stand-in (${b.records} records, ${b.requests} requests)`,
  );
  line('Braze calls', `${b.brazeCalls} (minimum ceil(N / 75) = ${b.minimumCalls}; ${b.averageObjectsPerCall.toFixed(1)} objects per call)`);
  line('throughput', `${b.recordsPerSecond.toFixed(0)} records/s end to end (${b.seconds.toFixed(1)} s, first POST to last call)`);
  line('', `${(b.records / b.callSeconds).toFixed(0)} records/s first to last call (${b.callSeconds.toFixed(1)} s)`);
  if (b.cpuSeconds !== undefined) {
    line('bridge CPU', `${b.cpuSeconds.toFixed(1)} s user+system (${((b.cpuSeconds / b.records) * 1e6).toFixed(0)} us a record)`);
  }
  line('delivered', `${b.deliveredByConsole} (RecordsDelivered of braze-track-bulk in the bridge's console state)`);
  line('peak RSS', `${b.peakRssMb?.toFixed(0) ?? '?'} MB (the bridge process alone: VmHWM; DATA_DIR ${options.dataDir ?? 'a temporary folder'})`);
  if (options.profileDir) {
    console.log(`  where the time went (CPU profiles in ${options.profileDir}, seconds by area):`);
    printProfileAreas(options.profileDir);
  }
  if (options.lane !== false && !options.profileDir) {
    const laneDir = folder();
    const lane = await benchLaneLatency(40_000, laneDir);
    done(laneDir);
    line('realtime lane', `${lane.latenciesMs.map((ms) => ms.toFixed(0)).join(', ')} ms from POST to Braze for SEEN callbacks under a 40,000-record backfill`);
    line('', `(Braze answering in ${lane.brazeMs} ms; ${lane.backfillDeliveredBefore} backfill records delivered by the last one)`);
  }
  console.log();
}
