import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { ChangeMessageVisibilityBatchCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { startFauxqs } from 'fauxqs';
import { type DeliveryQueue, deliveryQueues, type IngressFlow, ingressFlows, partners } from '../functions/catalogue';
import type { Config } from '../functions/core/config';
import { createDeps, type Deps } from '../functions/core/deps';
import { ConfigError } from '../functions/core/errors';
import { type AttemptInfo, HttpClient, type RetryPolicy } from '../functions/core/http';
import type { HttpEvent, HttpResult } from '../functions/core/ingress';
import { queueDepth } from '../functions/core/queue';
import { EnvSecretStore } from '../functions/core/secrets';
import { startEmbeddedDynamo } from './embedded-dynamodb';
import { lambdaContext } from './lambda-context';
import { EventSourcePoller, type SqsHandler } from './poller';
import { checkedConfig, Sandbox, startSandboxFor } from './sandbox';
import { laneQueueVariable } from '../functions/core/catalogue-types';
import { createLocalRoutes, type LocalRoute } from './local-routes';
import { lockDataDir } from './data-dir-lock';
import { refuseOtherHosts } from './operator-guard';
import { closeUnlessBodyRead, readBody } from './request-body';
import { chunk } from '../functions/core/pack';
import { type OnInvoke, reportingInvocations } from './invoke-hook';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where `npm start` keeps its queues unless DATA_DIR says otherwise (git-ignored). */
export const DEFAULT_DATA_DIR = '.bridge-data';
/** API Gateway's own cap on a request body. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;
/** Outbound attempts kept per destination for the console. */
const RECENT_CALLS = 20;

/** One outbound attempt, as the console shows it: the client's label (never the URL, never a header) and its answer. */
export interface OutboundCall extends AttemptInfo {
  /** The partner (or Braze) called: the owner of the queue whose consumer made the call. */
  destination: string;
  at: string;
}

export interface RunnerOptions {
  /** Environment to read (SPEC section 5 variables); defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Where the readable lines go (one per inbound request, outbound call, sandbox request). */
  log?: (line: string) => void;
  /** Test knobs: how SQS behaves locally (defaults follow the catalogue, as in AWS). */
  queueOverrides?: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number };
  /** Test knob: override a consumer's batching (e.g. a shorter window). */
  consumerOverrides?: Partial<{ maxBatchingWindowSeconds: number; batchSize: number }>;
  /** Test knob: false leaves scheduled drains to `drainNow` instead of their timer. */
  schedules?: boolean;
  /** Test knob: the outbound retry policy (defaults to the one the Lambdas use). */
  retryPolicy?: RetryPolicy;
  /** Test knob: false starts no poller until `startConsumers()`, so a test can fill a queue first. */
  startConsumers?: boolean;
  /** Bench knob: told the flow and duration of every handler invocation (bench/cost.ts). */
  onInvoke?: OnInvoke;
}

export interface RunningQueue {
  definition: DeliveryQueue;
  url: string;
  arn: string;
  dlqUrl: string;
  dlqName: string;
}

export interface Runner {
  url: string;
  port: number;
  inboundToken: string;
  config: Config;
  sqs: SQSClient;
  sqsEndpoint: string;
  queues: Map<string, RunningQueue>;
  sandbox: Sandbox;
  /** Runs a scheduled consumer once, now, as its schedule would. */
  drainNow: (queueId: string) => Promise<unknown>;
  /** Sandboxed destinations (no URL set). */
  sandboxed: string[];
  /** Where the queues and the dedupe table are kept (DATA_DIR); undefined for `:memory:`. */
  dataDir?: string;
  /** Queues found in DATA_DIR at start (0 on a fresh one). */
  restoredQueues: number;
  /** Messages an earlier run on DATA_DIR had received and not finished, made visible again at start. */
  resumedInFlight: number;
  /** Messages (visible, in flight and delayed) a queue or its DLQ holds. */
  depth: (queueId: string, which?: 'queue' | 'dlq') => Promise<number>;
  /** Messages each queue and its DLQ hold. */
  backlog: () => Promise<{ queue: string; waiting: number; parked: number }[]>;
  /** Seconds between a scheduled consumer's runs (0 for an event-source consumer). */
  intervalSeconds: (queueId: string) => number;
  /** Starts the event-source pollers when the runner was started with `startConsumers: false`. */
  startConsumers: () => void;
  /**
   * What the handlers counted through `deps.metrics` since this run started (EMF metric name ->
   * sum of values: `RecordsAccepted`, `RecordsDelivered` ...), by the `flow` the metrics carry
   * (an ingress flow's id, a consumer's `flowId`).
   */
  metricCounts: (flowId: string) => Readonly<Record<string, number>>;
  /** The last outbound attempts to a destination (at most 20, oldest first), real or sandboxed. */
  recentCalls: (destination: string) => readonly OutboundCall[];
  stop: () => Promise<void>;
}

type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;
interface HandlerModule<E, R> {
  build: (deps: Deps) => LambdaHandler<E, R>;
}

async function loadModule<E, R>(entry: string, onInvoke?: OnInvoke): Promise<HandlerModule<E, R>> {
  return reportingInvocations((await import(path.join(projectRoot, entry))) as HandlerModule<E, R>, onInvoke);
}

/** Matches `/seen/campaigns/{campaign_slug}/receivers` against a path, returning its parameters. */
export function matchRoute(template: string, actual: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = actual.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (!g) return undefined;
      params[w.slice(1, -1)] = decodeURIComponent(g);
    } else if (w !== g) return undefined;
  }
  return params;
}

/**
 * `npm start`, as a library: every catalogue route on http://localhost:PORT served by the same
 * handler modules as in Lambda, fauxqs embedded as SQS, event-source pollers and scheduled
 * drains feeding the delivery handlers, and the sandbox recorder for unset destinations.
 */
export async function startRunner(options: RunnerOptions = {}): Promise<Runner> {
  // What is started before a later step fails (a bad setting, a port in use) is stopped again,
  // so a failed start leaves no server or emulator keeping the process alive.
  const started: (() => Promise<unknown> | void)[] = [];
  try {
    return await start(options, started);
  } catch (error) {
    for (const stop of started.reverse()) await Promise.resolve().then(stop).catch(() => undefined);
    throw error;
  }
}

async function start(options: RunnerOptions, started: (() => Promise<unknown> | void)[]): Promise<Runner> {
  const env = { ...(options.env ?? process.env) };
  const log = options.log ?? ((line: string) => console.log(line));
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // EMF lines belong in CloudWatch, not on a terminal

  const { sandbox, sandboxed } = await startSandboxFor(partners, env, log);
  started.push(() => sandbox.stop());
  env.INBOUND_TOKEN ||= randomBytes(18).toString('base64url');
  env.LOG_LEVEL ??= 'WARN';
  // A laptop waits at most a minute between tries of a destination that is down or refuses its key,
  // so delivery resumes within two minutes of its recovery (AWS: 900 s, README "Faults").
  env.DELIVERY_BACKOFF_MAX_SECONDS ??= '60';
  for (const queue of deliveryQueues) {
    if (queue.drive.kind === 'schedule') env[queue.drive.intervalSetting] ??= String(queue.drive.localIntervalSeconds);
  }
  // Every partner's settings, checked now: a bad value fails the start naming the variable.
  const config = checkedConfig(env, partners);

  // DATA_DIR keeps the queues (fauxqs's SQLite) and the dedupe table (dynalite's LevelDB), so what
  // was answered 202 survives a crash; `:memory:` keeps nothing.
  const dataDir = env.DATA_DIR || DEFAULT_DATA_DIR;
  const persistent = dataDir !== ':memory:';
  const dataPath = persistent ? path.resolve(dataDir) : undefined;
  if (dataPath) mkdirSync(dataPath, { recursive: true });
  // One run per folder (a second one is refused here, naming the folder and the holder's pid).
  const lock = dataPath ? lockDataDir(dataPath) : undefined;
  if (lock) started.push(() => lock.release());
  const fauxqs = await startFauxqs({
    port: 0,
    logger: false,
    host: '127.0.0.1',
    ...(dataPath ? { dataDir: path.join(dataPath, 'sqs') } : {}),
  } as Parameters<typeof startFauxqs>[0]);
  const sqsEndpoint = `http://127.0.0.1:${fauxqs.port}`;
  started.push(() => fauxqs.stop());
  const sqs = new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  started.push(() => sqs.destroy());
  const secrets = EnvSecretStore.fromConfig(config);
  // One client per destination, so that each attempt is kept under the destination it went to.
  const recentCalls = new Map<string, OutboundCall[]>();
  const clients = new Map<string, HttpClient>();
  const httpFor = (destination: string): HttpClient => {
    let client = clients.get(destination);
    if (!client) {
      client = new HttpClient({
        policy: options.retryPolicy,
        onAttempt: (a) => {
          log(`  -> ${a.label} ${a.status ?? a.error} (attempt ${a.attempt + 1}, ${a.durationMs} ms)`);
          const calls = recentCalls.get(destination) ?? [];
          calls.push({ ...a, destination, at: new Date().toISOString() });
          recentCalls.set(destination, calls.slice(-RECENT_CALLS));
        },
      });
      clients.set(destination, client);
    }
    return client;
  };
  // What was delivered, for the queues that dedupe on an id: the Lambdas' DynamoDB code path against
  // an embedded DynamoDB (dynalite), as fauxqs stands in for SQS.
  const dynamo = await startEmbeddedDynamo(dataPath ? path.join(dataPath, 'dedupe') : undefined);
  started.push(() => dynamo.stop());
  const dedupe = await dynamo.dedupeStore();
  // One process per DATA_DIR: a claim still in flight belongs to a run that died; give it up so its
  // messages are delivered at once rather than when the claim expires.
  if (dataPath) await dedupe.releaseAllInFlight();
  // The handlers' metrics, counted as they are added (for the console): flow -> metric -> sum. The
  // Powertools Metrics object itself is untouched, so POWERTOOLS_METRICS_DISABLED still decides
  // whether EMF lines are printed.
  const metricCounts = new Map<string, Record<string, number>>();
  const depsFor = (flowId: string, destination: string, overrides: Partial<Config>) => {
    const deps = createDeps(flowId, { ...config, ...overrides }, { sqs, secrets, http: httpFor(destination), dedupe });
    const counts: Record<string, number> = metricCounts.get(flowId) ?? {};
    metricCounts.set(flowId, counts);
    const addMetric = deps.metrics.addMetric.bind(deps.metrics);
    deps.metrics.addMetric = (name, unit, value, resolution) => {
      counts[name] = (counts[name] ?? 0) + value;
      return addMetric(name, unit, value, resolution);
    };
    return deps;
  };
  /** Seconds of a scheduled drive's interval, as its consumer will read it. */
  const intervalOf = (queue: DeliveryQueue): number => (queue.drive.kind === 'schedule' ? Number(config.env[queue.drive.intervalSetting]) : 0);

  /**
   * A queue restored from DATA_DIR keeps its messages; only its attributes are brought up to date
   * (and what was in flight is made visible, below). A new one is created.
   */
  const restored: string[] = [];
  const ensureQueue = (name: string, attributes: Record<string, string>) => {
    const existing = fauxqs.inspectQueue(name);
    if (!existing) {
      const created = fauxqs.createQueue(name, { attributes });
      return { queueUrl: created.queueUrl, queueArn: created.queueArn };
    }
    restored.push(name);
    pendingAttributes.push(sqs.send(new SetQueueAttributesCommand({ QueueUrl: existing.url, Attributes: attributes })));
    return { queueUrl: existing.url, queueArn: existing.arn };
  };
  const pendingAttributes: Promise<unknown>[] = [];

  const queues = new Map<string, RunningQueue>();
  for (const definition of deliveryQueues) {
    const name = `bpb-${definition.id}`;
    const dlq = ensureQueue(`${name}-dlq`, { MessageRetentionPeriod: String(14 * 24 * 3600) });
    const visibility = options.queueOverrides?.visibilityTimeoutSeconds ?? definition.consumer.timeoutSeconds * 6;
    const retention = String(14 * 24 * 3600);
    const maxReceiveCount = options.queueOverrides?.maxReceiveCount ?? definition.maxReceiveCount;
    const queue = ensureQueue(name, {
      VisibilityTimeout: String(visibility),
      MessageRetentionPeriod: retention,
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: String(maxReceiveCount) }),
    });
    queues.set(definition.id, { definition, url: queue.queueUrl, arn: queue.queueArn, dlqUrl: dlq.queueUrl, dlqName: `${name}-dlq` });
  }

  await Promise.all(pendingAttributes);

  /**
   * What an earlier run on DATA_DIR had received and not finished (a batch being delivered, one its
   * consumer set to back off, a DLQ peek) stays in flight until its visibility timeout: 6 minutes for
   * Braze. The lock says that run is gone, so nobody will finish it: it is made visible again within
   * a second and delivered. (Receiving it again counts toward maxReceiveCount, as after a Lambda
   * crash.) One second rather than 0: fauxqs 2.4.1 fails to write a visibility of 0 to its SQLite (it
   * sets the NOT NULL receive count to null) and answers 500, while any other value is kept.
   */
  let resumedInFlight = 0;
  for (const name of restored) {
    const held = fauxqs.inspectQueue(name);
    for (const batch of chunk(held?.messages.inflight ?? [], 10)) {
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: held?.url,
          Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle, VisibilityTimeout: 1 })),
        }),
      );
      resumedInFlight += result.Successful?.length ?? 0;
    }
  }

  // Consumers: event-source pollers and scheduled drains, each with its own function's deps.
  const pollers: EventSourcePoller[] = [];
  const timers: NodeJS.Timeout[] = [];
  const running: Promise<unknown>[] = [];
  const drains = new Map<string, () => Promise<unknown>>();
  let stopping = false;
  started.push(() => {
    stopping = true;
    for (const timer of timers) clearTimeout(timer);
  });
  for (const q of queues.values()) {
    const consumer = q.definition.consumer;
    const drive = q.definition.drive;
    const mod = await loadModule<unknown, unknown>(consumer.entry, options.onInvoke);
    const handler = mod.build(depsFor(consumer.flowId, q.definition.owner, { QUEUE_URL: q.url, DLQ_URL: q.dlqUrl }));
    if (drive.kind === 'event-source') {
      const poller = new EventSourcePoller(sqs, {
        name: `${q.definition.id}-delivery`,
        queueUrl: q.url,
        queueArn: q.arn,
        consumer,
        drive: { ...drive, ...options.consumerOverrides },
        handler: handler as SqsHandler,
        log,
      });
      pollers.push(poller);
    } else {
      const intervalMs = intervalOf(q.definition) * 1000;
      const invoke = () => handler({ source: 'local.schedule' }, lambdaContext(`${q.definition.id}-drain`, consumer.timeoutSeconds, consumer.memoryMb));
      drains.set(q.definition.id, invoke);
      const tick = () => {
        if (stopping) return;
        const startedAt = Date.now();
        const run = invoke()
          .then((result) => {
            const r = result as { calls?: number; records?: number } | undefined;
            if (r?.calls) log(`${q.definition.id} drain: ${r.calls} call(s), ${r.records} record(s)`);
          })
          .catch((error: unknown) => log(`${q.definition.id} drain failed: ${error instanceof Error ? error.name : 'error'}`))
          .finally(() => {
            // Next run no sooner than one interval after this one started: the budget relies on it.
            if (!stopping) timers.push(setTimeout(tick, Math.max(0, startedAt + intervalMs - Date.now())));
          });
        running.push(run);
      };
      if (options.schedules !== false) timers.push(setTimeout(tick, intervalMs));
    }
  }

  // Ingress: the same handler modules behind a plain HTTP server shaped like API Gateway (HTTP API).
  const routes: { flow: IngressFlow; handler: LambdaHandler<HttpEvent, HttpResult> }[] = [];
  for (const flow of ingressFlows) {
    const q = queues.get(flow.queue);
    if (!q) throw new ConfigError(`flow ${flow.id} names unknown queue ${flow.queue}`);
    const mod = await loadModule<HttpEvent, HttpResult>(flow.entry, options.onInvoke);
    const lanes = Object.fromEntries(
      (flow.alsoFeeds ?? []).map((lane) => {
        const other = queues.get(lane);
        if (!other) throw new ConfigError(`flow ${flow.id} names unknown queue ${lane}`);
        return [laneQueueVariable(lane), other.url];
      }),
    );
    routes.push({ flow, handler: mod.build(depsFor(flow.id, flow.owner, { QUEUE_URL: q.url, env: { ...config.env, ...lanes } })) });
  }

  // Filled once the runner object exists (below): they read its queues, SQS client and sandbox.
  const localRoutes: LocalRoute[] = [];
  const server: Server = createServer((req, res) => {
    closeUnlessBodyRead(req, res);
    void serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error, please retry' }));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown, note = '') => {
      // A 413 closes its connection whatever was read (API Gateway's answer to a body over its cap).
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 413 ? { connection: 'close' } : {}) });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
      if (!url.pathname.startsWith('/_')) log(`${req.method} ${url.pathname} ${status} ${Date.now() - started} ms${note}`);
    };
    // The console, /_sandbox and /_dlq answer only under this machine's name (403 otherwise).
    if (refuseOtherHosts(req, res, url)) return;
    if (req.method === 'GET' && url.pathname === '/_sandbox/requests') return send(200, sandbox.requests);
    // Operator pages and APIs of the local run (console, DLQ admin, OpenAPI document): local/local-routes.ts.
    for (const route of localRoutes) if (await route(req, res, url)) return;
    if (req.method === 'GET' && url.pathname === '/_health') return send(200, { ok: true });

    const match = routes
      .map((route) => ({ route, params: route.flow.method === req.method ? matchRoute(route.flow.path, url.pathname) : undefined }))
      .find((candidate) => candidate.params !== undefined);
    if (!match) return send(404, { message: 'Not Found' });

    const body = await readBody(req, API_GATEWAY_MAX_BODY);
    if (body === undefined) return send(413, { message: 'Request Entity Too Large' });
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : (v ?? '')]),
    );
    const requestId = randomUUID();
    const event: HttpEvent = {
      version: '2.0',
      routeKey: `${match.route.flow.method} ${match.route.flow.path}`,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
      pathParameters: Object.keys(match.params ?? {}).length ? match.params : undefined,
      body: body.toString('utf8'),
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: { method: req.method ?? 'POST', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        requestId,
        routeKey: `${match.route.flow.method} ${match.route.flow.path}`,
        stage: '$default',
        time: new Date().toISOString(),
        timeEpoch: Date.now(),
      },
    };
    const result = await match.route.handler(event, lambdaContext(match.route.flow.id, 10));
    let note = '';
    try {
      const parsed = JSON.parse(result.body ?? '{}') as { accepted?: number; error?: string };
      note = parsed.accepted !== undefined ? ` accepted=${parsed.accepted}` : parsed.error ? ` (${parsed.error})` : '';
    } catch {
      /* no note */
    }
    send(result.statusCode ?? 200, result.body ?? '', note);
  }

  let consuming = false;
  const startConsumers = () => {
    if (consuming) return;
    consuming = true;
    for (const poller of pollers) poller.start();
  };
  if (options.startConsumers !== false) startConsumers();

  // Longer than the idle keep-alive of common clients (Node's fetch: 4 s, browsers and load
  // balancers: up to 60 s), as API Gateway and load balancers do: otherwise the server may close an
  // idle socket just as a client reuses it, and that request fails with ECONNRESET.
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 76_000;
  const port = Number(env.PORT ?? 3000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;

  const depth = (url: string) => queueDepth(sqs, url);

  const runner: Runner = {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    inboundToken: env.INBOUND_TOKEN,
    config,
    sqs,
    sqsEndpoint,
    queues,
    sandbox,
    sandboxed,
    dataDir: dataPath,
    restoredQueues: restored.length,
    resumedInFlight,
    depth: (queueId: string, which: 'queue' | 'dlq' = 'queue') => {
      const q = queues.get(queueId);
      if (!q) throw new Error(`no queue ${queueId}`);
      return depth(which === 'queue' ? q.url : q.dlqUrl);
    },
    backlog: async () =>
      Promise.all(
        [...queues.values()].map(async (q) => ({
          queue: q.definition.id,
          waiting: await depth(q.url),
          parked: await depth(q.dlqUrl),
        })),
      ),
    intervalSeconds: (queueId: string) => {
      const q = queues.get(queueId);
      if (!q) throw new Error(`no queue ${queueId}`);
      return intervalOf(q.definition);
    },
    startConsumers,
    metricCounts: (flowId: string) => ({ ...metricCounts.get(flowId) }),
    recentCalls: (destination: string) => [...(recentCalls.get(destination) ?? [])],
    drainNow: (queueId: string) => {
      const invoke = drains.get(queueId);
      if (!invoke) throw new Error(`${queueId} has no scheduled consumer`);
      return invoke();
    },
    stop: async () => {
      stopping = true;
      for (const timer of timers) clearTimeout(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await Promise.all(pollers.map((p) => p.stop()));
      await Promise.allSettled(running);
      sqs.destroy();
      await fauxqs.stop();
      await sandbox.stop();
      await dynamo.stop();
      lock?.release();
    },
  };
  localRoutes.push(...createLocalRoutes(runner));
  return runner;
}
