import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingressFlows, partners } from '../functions/catalogue';
import { MetricName } from '../functions/core/observability';
import type { LocalRoute } from './gateway';
import { fromLoopback } from './operator-guard';
import type { OutboundCall } from './outbound';
import type { RunnerState } from './runner';

/** What the console reads: metric counts, queues and their depths, recent calls, the sandbox's requests. */
export type ConsoleView = Pick<RunnerState, 'metricCounts' | 'backlog' | 'queues' | 'dataDir' | 'sandbox' | 'sandboxed' | 'recentCalls'>;

/** The page's files: plain HTML, CSS and a script, served as they are (no build step). */
const assetsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'console');
const assets: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/_console': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/_console/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/_console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/_console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

/** Requests and calls shown per destination. */
const LAST_PER_DESTINATION = 5;
/** A request body longer than this (as indented JSON) is cut; the whole of it is at GET /_sandbox/requests. */
const BODY_PREVIEW_CHARS = 4_000;

/** A flow's route and what it counted since the run started. */
interface ConsoleFlow {
  id: string;
  /** The partner that sends on it. */
  source: string;
  route: string;
  /** Queues it feeds (the first one, then its lanes). */
  queues: string[];
  /** RecordsAccepted: records the route answered 202 for. */
  accepted: number;
  /** RecordsRejected: records refused by index in a 202, plus one per request refused with 400. */
  rejected: number;
}

/** A delivery queue: what it holds now and what its consumer counted since the run started. */
interface ConsoleQueue {
  id: string;
  /** The destination its consumer calls. */
  destination: string;
  lane: 'realtime' | 'bulk';
  drive: 'event-source' | 'schedule';
  /** Flows that feed it: its delivered and parked counts are theirs together. */
  fedBy: string[];
  /** Messages in the queue: visible, in flight and delayed. */
  waiting: number;
  /** Messages in its DLQ, whenever they were parked (DATA_DIR keeps them across runs). */
  dlq: number;
  /** RecordsDelivered of its consumer. */
  delivered: number;
  /** RecordsParked of its consumer: records it parked after the destination refused them. */
  parked: number;
  /** DeliveryFailures of its consumer: records of failed calls, left to be received again. */
  failures: number;
  /** How to move its DLQ back: the runner's endpoint (served by the DLQ admin routes) and the CLI command. */
  redrive: { method: 'POST'; path: string; command: string };
}

/** A request the sandbox received, as GET /_sandbox/requests has it (credentials masked), its body as text. */
interface ConsoleRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Indented JSON (or the text received), cut at BODY_PREVIEW_CHARS; absent once the sandbox dropped it. */
  body?: string;
  /** Characters of the whole body when `body` was cut. */
  bodyChars?: number;
  at: string;
}

interface ConsoleDestination {
  id: string;
  /** True: the built-in sandbox stands in for it (its requests are listed); false: real HTTP (label and status only). */
  sandboxed: boolean;
  /** The last attempts, newest first: label, status or error, duration. */
  calls: OutboundCall[];
  /** The last requests the sandbox received, newest first (sandboxed destinations only). */
  requests: ConsoleRequest[];
}

/** GET /_console/state */
export interface ConsoleState {
  at: string;
  /** Where queues and DLQs are kept; null for DATA_DIR=:memory:. */
  dataDir: string | null;
  flows: ConsoleFlow[];
  queues: ConsoleQueue[];
  destinations: ConsoleDestination[];
}

/** What the page shows, read from the runner: its metric counts, its queues' depths, its recent calls and sandbox requests. */
async function consoleState(runner: ConsoleView): Promise<ConsoleState> {
  const count = (flowId: string, name: MetricName) => runner.metricCounts(flowId)[name] ?? 0;
  const flows = ingressFlows.map((flow) => ({
    id: flow.id,
    source: flow.source,
    route: `${flow.method} ${flow.path}`,
    queues: [flow.queue, ...(flow.alsoFeeds ?? [])],
    accepted: count(flow.id, MetricName.RecordsAccepted),
    rejected: count(flow.id, MetricName.RecordsRejected),
  }));
  const backlog = new Map((await runner.backlog()).map((b) => [b.queue, b]));
  const queues = [...runner.queues.values()].map(({ definition }) => ({
    id: definition.id,
    destination: definition.destination,
    lane: definition.lane,
    drive: definition.drive.kind,
    fedBy: flows.filter((flow) => flow.queues.includes(definition.id)).map((flow) => flow.id),
    waiting: backlog.get(definition.id)?.waiting ?? 0,
    dlq: backlog.get(definition.id)?.parked ?? 0,
    delivered: count(definition.consumer.flowId, MetricName.RecordsDelivered),
    parked: count(definition.consumer.flowId, MetricName.RecordsParked),
    failures: count(definition.consumer.flowId, MetricName.DeliveryFailures),
    redrive: {
      method: 'POST' as const,
      path: `/_dlq/${encodeURIComponent(definition.id)}/redrive`,
      command: `npx bridge dlq redrive ${definition.id} --local`,
    },
  }));
  return { at: new Date().toISOString(), dataDir: runner.dataDir ?? null, flows, queues, destinations: destinations(runner) };
}

function destinations(runner: ConsoleView): ConsoleDestination[] {
  const ids = partners.filter((partner) => partner.sandbox || partner.queues.length > 0).map((partner) => partner.id);
  // One pass from the newest request back, keeping the last few of each destination.
  const requests = new Map<string, ConsoleRequest[]>(ids.map((id) => [id, []]));
  for (let i = runner.sandbox.requests.length - 1; i >= 0; i--) {
    const recorded = runner.sandbox.requests[i]!;
    const kept = requests.get(recorded.destination);
    if (!kept || kept.length >= LAST_PER_DESTINATION) continue;
    kept.push({ method: recorded.method, path: recorded.path, headers: recorded.headers, at: recorded.at, ...bodyPreview(recorded.body) });
    if ([...requests.values()].every((list) => list.length >= LAST_PER_DESTINATION)) break;
  }
  return ids.map((id) => ({
    id,
    sandboxed: runner.sandboxed.includes(id),
    calls: runner.recentCalls(id).slice(-LAST_PER_DESTINATION).reverse(),
    requests: requests.get(id) ?? [],
  }));
}

function bodyPreview(body: unknown): Pick<ConsoleRequest, 'body' | 'bodyChars'> {
  if (body === undefined) return {};
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  return text.length > BODY_PREVIEW_CHARS ? { body: text.slice(0, BODY_PREVIEW_CHARS), bodyChars: text.length } : { body: text };
}

const securityHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri " +
    "'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * The local console: `GET /` (and `/_console`) serves a page that polls `GET /_console/state`
 * every second and shows, per flow, what was accepted and rejected, per queue its depth, DLQ
 * depth, delivered and parked counts and a redrive button, and the last requests per destination.
 */
export function consoleRoutes(runner: ConsoleView): LocalRoute[] {
  const route: LocalRoute = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const isState = url.pathname === '/_console/state';
    const asset = assets[url.pathname];
    if (req.method !== 'GET' || (!isState && !asset)) return false;
    // The state holds the last request bodies: only for a page loaded from this machine's own name
    // (the runner refuses other hosts first, for every operator route; this keeps the page safe alone).
    if (!fromLoopback(req)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders });
      res.end('The local console answers only on localhost (http://localhost:PORT/).\n');
      return true;
    }
    if (isState) {
      res.writeHead(200, { 'content-type': 'application/json', ...securityHeaders });
      res.end(JSON.stringify(await consoleState(runner)));
      return true;
    }
    res.writeHead(200, { 'content-type': asset!.type, ...securityHeaders });
    res.end(await readFile(path.join(assetsDir, asset!.file)));
    return true;
  };
  return [route];
}
