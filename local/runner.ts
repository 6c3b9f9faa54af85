/// <reference lib="esnext.disposable" />
import { randomBytes } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { deliveryQueues, ingressFlows, partners } from '../functions/catalogue';
import { laneQueueVariable } from '../functions/core/catalogue-types';
import type { Config } from '../functions/core/config';
import { ConfigError } from '../functions/core/errors';
import type { RetryPolicy } from '../functions/core/http';
import { type ConsumerHooks, Consumers, intervalSeconds } from './consumers';
import { startEmulators } from './emulators';
import { type IngressRoute, type LocalRoute, sandboxRequestsRoute, startGateway } from './gateway';
import { HandlerFactory } from './handlers';
import type { OnInvoke } from './invoke-hook';
import { MetricCounts } from './metric-counts';
import { type OutboundCall, OutboundCalls } from './outbound';
import { openQueues, type QueueOverrides, type Queues, type RunningQueue } from './queues';
import { checkedConfig, type Sandbox, startSandboxFor } from './sandbox';

/** What `npm start` sets: where its settings come from, where its lines go, which operator routes it serves. */
export interface RunnerOptions {
  /** Environment to read (SPEC section 5 variables); defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Where the readable lines go (one per inbound request, outbound call, sandbox request). */
  log?: (line: string) => void;
  /** The operator's pages and APIs beside the flows' routes (local/operator-routes.ts); none by default. */
  operatorRoutes?: readonly OperatorRoutes[];
}

/** What tests and benches change, and `npm start` never does. */
export interface RunnerHooks extends ConsumerHooks {
  /** How SQS behaves locally (defaults follow the catalogue, as in AWS). */
  queueOverrides?: QueueOverrides;
  /** The outbound retry policy (defaults to the one the Lambdas use). */
  retryPolicy?: RetryPolicy;
  /** Told the flow and duration of every handler invocation (bench/cost.ts). */
  onInvoke?: OnInvoke;
}

/** What the runner holds once its parts are up: what operator routes may read (each takes the part it needs). */
export interface RunnerState extends Pick<Queues, 'depth' | 'backlog'> {
  /** The port it listens on. */
  port: number;
  config: Config;
  sqs: SQSClient;
  queues: ReadonlyMap<string, RunningQueue>;
  sandbox: Sandbox;
  /** Sandboxed destinations (no URL set). */
  sandboxed: string[];
  /** Where the queues and the dedupe table are kept (DATA_DIR); undefined for `:memory:`. */
  dataDir?: string;
  /**
   * What the handlers counted through `deps.metrics` since this run started (EMF metric name ->
   * sum of values: `RecordsAccepted`, `RecordsDelivered` ...), by the `flow` the metrics carry
   * (an ingress flow's id, a consumer's `flowId`).
   */
  metricCounts: (flowId: string) => Readonly<Record<string, number>>;
  /** The last outbound attempts to a destination (at most 20, oldest first), real or sandboxed. */
  recentCalls: (destination: string) => readonly OutboundCall[];
}

/** Operator routes built from the runner's state (the console, the DLQ admin API, the OpenAPI document). */
export type OperatorRoutes = (state: RunnerState) => LocalRoute[];

export interface Runner extends RunnerState, Pick<Queues, 'restoredQueues' | 'resumedInFlight'> {
  url: string;
  inboundToken: string;
  sqsEndpoint: string;
  /** Runs a scheduled consumer once, now, as its schedule would. */
  drainNow: (queueId: string) => Promise<unknown>;
  /** Seconds between a scheduled consumer's runs (0 for an event-source consumer). */
  intervalSeconds: (queueId: string) => number;
  /** Starts the event-source pollers when the runner was started with the hook `startConsumers: false`. */
  startConsumers: () => void;
  /** Stops everything it started, last started first. */
  stop: () => Promise<void>;
}

/**
 * `npm start`, as a library: every catalogue route on http://localhost:PORT served by the same
 * handler modules as in Lambda, fauxqs embedded as SQS, event-source pollers and scheduled
 * drains feeding the delivery handlers, and the sandbox recorder for unset destinations.
 * Everything started goes on one stack, disposed by `stop()`, or at once when a later step fails
 * (a bad setting, a port in use), so a failed start leaves nothing keeping the process alive and
 * the start's own error is what the caller sees.
 */
export async function startRunner(options: RunnerOptions = {}, hooks: RunnerHooks = {}): Promise<Runner> {
  const stack = new AsyncDisposableStack();
  try {
    return await compose(options, hooks, stack);
  } catch (error) {
    await stack.disposeAsync().catch(() => undefined);
    throw error;
  }
}

async function compose(options: RunnerOptions, hooks: RunnerHooks, stack: AsyncDisposableStack): Promise<Runner> {
  const log = options.log ?? stdoutLines(stack);
  const { env, config, sandbox, sandboxed } = await localSettings(options.env ?? process.env, log, stack);
  const emulators = await startEmulators(env.DATA_DIR, stack);
  const queues = await openQueues(emulators.fauxqs, emulators.sqs, hooks.queueOverrides);
  const calls = new OutboundCalls(log, hooks.retryPolicy);
  const counts = new MetricCounts();
  const handlers = new HandlerFactory(config, emulators, calls, counts, hooks.onInvoke);
  const consumers = stack.use(new Consumers(emulators.sqs, log, hooks));
  await consumers.add(queues.queues.values(), handlers, config);
  const ingress = await ingressRoutes(handlers, queues.queues, config);
  const state: Omit<RunnerState, 'port'> = {
    config,
    sqs: emulators.sqs,
    queues: queues.queues,
    sandbox,
    sandboxed,
    dataDir: emulators.dataPath,
    depth: queues.depth,
    backlog: queues.backlog,
    metricCounts: (flowId) => counts.of(flowId),
    recentCalls: (destination) => calls.recent(destination),
  };
  const localRoutes = (port: number) => [sandboxRequestsRoute(sandbox), ...(options.operatorRoutes ?? []).flatMap((routes) => routes({ ...state, port }))];
  consumers.start();
  const port = await startGateway({ port: Number(env.PORT ?? 3000), ingress, localRoutes, log }, stack);
  const owned = stack.move();
  return {
    ...state,
    url: `http://127.0.0.1:${port}`,
    port,
    inboundToken: env.INBOUND_TOKEN as string,
    sqsEndpoint: emulators.sqsEndpoint,
    restoredQueues: queues.restoredQueues,
    resumedInFlight: queues.resumedInFlight,
    drainNow: (queueId) => consumers.drainNow(queueId),
    intervalSeconds: (queueId) => intervalSeconds(queueOf(queues.queues, queueId).definition, config),
    startConsumers: () => consumers.startPollers(),
    stop: () => owned.disposeAsync(),
  };
}

/**
 * The default `log`: each line on stdout, as console.log would print it, but written once per turn
 * of the event loop (a backfill prints a line per request and per Braze call; each write to a
 * terminal or a pipe is synchronous). Lines still pending are written when the runner stops or the
 * process exits.
 */
function stdoutLines(stack: AsyncDisposableStack): (line: string) => void {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    process.stdout.write(text);
  };
  process.on('exit', flush);
  stack.defer(() => {
    flush();
    process.off('exit', flush);
  });
  return (line) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(line);
  };
}

/**
 * The environment as `npm start` runs it (SPEC section 5): unset destinations sent to the sandbox
 * recorder (started here, stopped by `stack`), an inbound token made up if none is set, local
 * defaults, and every partner's settings checked now (a bad value fails the start naming the variable).
 */
async function localSettings(given: Record<string, string | undefined>, log: (line: string) => void, stack: AsyncDisposableStack) {
  const env = { ...given };
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // EMF lines belong in CloudWatch, not on a terminal
  const { sandbox, sandboxed } = await startSandboxFor(partners, env, log);
  stack.defer(() => sandbox.stop());
  env.INBOUND_TOKEN ||= randomBytes(18).toString('base64url');
  env.LOG_LEVEL ??= 'WARN';
  // A laptop waits at most a minute between tries of a destination that is down or refuses its key,
  // so delivery resumes within two minutes of its recovery (AWS: 900 s, docs/architecture.md "Faults").
  env.DELIVERY_BACKOFF_MAX_SECONDS ??= '60';
  for (const queue of deliveryQueues) {
    if (queue.drive.kind === 'schedule') env[queue.drive.intervalSetting] ??= String(queue.drive.localIntervalSeconds);
  }
  return { env, config: checkedConfig(env, partners), sandbox, sandboxed };
}

/** Each catalogue route's handler, with the URLs of the queue it feeds and of its lanes. */
async function ingressRoutes(handlers: HandlerFactory, queues: ReadonlyMap<string, RunningQueue>, config: Config): Promise<IngressRoute[]> {
  const routes: IngressRoute[] = [];
  for (const flow of ingressFlows) {
    const queueOfFlow = (id: string) => {
      const q = queues.get(id);
      if (!q) throw new ConfigError(`flow ${flow.id} names unknown queue ${id}`);
      return q;
    };
    const lanes = Object.fromEntries((flow.alsoFeeds ?? []).map((lane) => [laneQueueVariable(lane), queueOfFlow(lane).url]));
    const overrides = { QUEUE_URL: queueOfFlow(flow.queue).url, env: { ...config.env, ...lanes } };
    routes.push({ flow, handler: await handlers.build({ entry: flow, destination: flow.source, overrides }) });
  }
  return routes;
}

function queueOf(queues: ReadonlyMap<string, RunningQueue>, queueId: string): RunningQueue {
  const q = queues.get(queueId);
  if (!q) throw new Error(`no queue ${queueId}`);
  return q;
}
