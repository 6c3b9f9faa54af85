/**
 * `bridge transform <flow> <file|->`: a dry run. The sample goes through the flow's real code (the
 * ingress handler, the queue, the consumer) in an in-memory runner whose every destination is the
 * sandbox, and what the sandbox received is printed: the exact downstream requests, credentials
 * masked. Nothing leaves the machine: the user's destination URLs and credentials are not read.
 */
import { partners } from '../functions/catalogue';
import { envPrefix } from '../functions/core/catalogue-types';
import { peekQueue, summarise } from '../local/dlq-admin';
import { type Runner, startRunner } from '../local/runner';
import { fillPath, flowById, tokenScheme, urlSettingOf } from './catalogue-lookup';
import { type CliIo, CommandFailed, lineWriter, plural, prettyJson, readSample } from './io';

export interface TransformOptions {
  param?: Record<string, string>;
  json?: boolean;
  /** Seconds to wait for the queues to empty. */
  timeout?: number;
  /** Print the runner's lines (requests, sandbox answers) on standard error. */
  verbose?: boolean;
}

interface DownstreamRequest {
  /** The destination (a partner id of the catalogue) the request was for. */
  destination: string;
  method: string;
  /** As the real destination would see it, under the setting holding its base URL: `{<URL SETTING>}/path`. */
  url: string;
  /** Credentials masked (`Bearer ****`). */
  headers: Record<string, string>;
  body: unknown;
}

export interface TransformResult {
  flow: string;
  /** The request made to the route: `POST /<route path, parameters filled>`. */
  route: string;
  status: number;
  /** The route's answer body (`{"accepted": 1}`, or the 400's issues). */
  answer: unknown;
  requests: DownstreamRequest[];
  /** Messages a consumer parked in a DLQ instead of delivering (none when all went well). */
  parked: { queue: string; count: number; reasons: Record<string, number> }[];
  /** Queues still holding messages when the wait ended (a consumer kept failing). */
  unfinished: { queue: string; waiting: number }[];
  notes: string[];
}

/** The user's environment with every destination URL and outbound credential removed: all sandbox. */
function sandboxOnlyEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...env };
  for (const partner of partners) {
    if (!partner.sandbox) continue;
    for (const name of [partner.sandbox.urlSetting, ...(partner.sandbox.otherUrlSettings ?? [])]) delete out[name];
    for (const field of partner.secret.outbound) delete out[`${envPrefix(partner.id)}_${field.toUpperCase()}`];
  }
  delete out.INBOUND_TOKEN;
  return { ...out, PORT: '0', DATA_DIR: ':memory:', LOG_LEVEL: 'SILENT' };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until no queue holds a message, running scheduled consumers as their schedule would. */
async function settle(runner: Runner, timeoutMs: number): Promise<{ queue: string; waiting: number }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = (await runner.backlog()).filter((q) => q.waiting > 0);
    if (waiting.length === 0) return [];
    if (Date.now() > deadline) return waiting.map(({ queue, waiting: count }) => ({ queue, waiting: count }));
    let called = false;
    for (const { queue } of waiting) {
      if (runner.queues.get(queue)?.definition.drive.kind !== 'schedule') continue;
      const result = (await runner.drainNow(queue)) as { calls?: number } | undefined;
      if (result?.calls) called = true;
    }
    if (!called) await sleep(50);
  }
}

async function transform(flowId: string, file: string, options: TransformOptions, io: CliIo): Promise<TransformResult> {
  const flow = flowById(flowId);
  const notes: string[] = [];
  const path = fillPath(flow, options.param ?? {}, true, notes);
  const scheme = tokenScheme(flow);
  const body = await readSample(file, io);
  const verbose = lineWriter(io.err);

  const runner = await startRunner(
    { env: sandboxOnlyEnv(io.env ?? process.env), log: options.verbose ? (line) => verbose(line) : () => undefined },
    {
      // Scheduled consumers run when the sample is queued (drainNow), not on their timer.
      schedules: false,
      // The sample is queued whole before any consumer receives, so a short window gathers all of
      // it into one batch as the catalogue's longer window would.
      startConsumers: false,
      consumerOverrides: { maxBatchingWindowSeconds: 1 },
      // A failed call's messages come back in seconds, not after 6x the consumer timeout.
      queueOverrides: { visibilityTimeoutSeconds: 5 },
    },
  );
  try {
    const before = runner.sandbox.requests.length;
    const target = new URL(path, runner.url);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (scheme === 'bearer') headers.authorization = `Bearer ${runner.inboundToken}`;
    else target.searchParams.set('token', runner.inboundToken);
    const response = await fetch(target, { method: flow.method, headers, body });
    const text = await response.text();
    let answer: unknown = text;
    try {
      answer = JSON.parse(text);
    } catch {
      /* not JSON: kept as text */
    }
    const result: TransformResult = {
      flow: flow.id,
      route: `${flow.method} ${path}`,
      status: response.status,
      answer,
      requests: [],
      parked: [],
      unfinished: [],
      notes,
    };
    if (!response.ok) return result;

    runner.startConsumers();
    result.unfinished = await settle(runner, (options.timeout ?? 30) * 1000);
    result.requests = runner.sandbox.requests.slice(before).map((recorded) => {
      const setting = urlSettingOf(recorded.destination);
      const base = setting ? `{${setting}}` : `{${recorded.destination}}`;
      return {
        destination: recorded.destination,
        method: recorded.method,
        url: recorded.path === '/' ? base : `${base}${recorded.path}`,
        headers: recorded.headers,
        body: recorded.body,
      };
    });
    for (const queue of runner.queues.keys()) {
      const count = await runner.depth(queue, 'dlq');
      if (count === 0) continue;
      const { reasons } = summarise(await peekQueue(runner.sqs, runner.queues.get(queue)!.dlqUrl, { max: 100 }));
      result.parked.push({ queue, count, reasons });
    }
    return result;
  } finally {
    await runner.stop();
  }
}

/** Runs the command: prints the result and fails (exit 1) on a refused sample. */
export async function transformCommand(flowId: string, file: string, options: TransformOptions, io: CliIo): Promise<void> {
  const result = await transform(flowId, file, options, io);
  const line = lineWriter(io.out);
  const refused = result.status < 200 || result.status > 299;
  if (options.json) {
    line(prettyJson(result));
  } else if (refused) {
    line(`${result.route} -> ${result.status}`);
    line(typeof result.answer === 'string' ? result.answer : prettyJson(result.answer));
  } else {
    line(`${result.route} -> ${result.status} ${JSON.stringify(result.answer)}`);
    for (const note of result.notes) line(`note: ${note}`);
    line(result.requests.length === 0 ? 'no downstream request' : `${plural(result.requests.length, 'downstream request')}:`);
    for (const request of result.requests) {
      line();
      line(`${request.method} ${request.url}`);
      for (const [name, value] of Object.entries(request.headers)) line(`${name}: ${value}`);
      if (request.body !== undefined) line(typeof request.body === 'string' ? request.body : prettyJson(request.body));
    }
    for (const parked of result.parked) {
      line();
      line(
        `parked in the ${parked.queue} DLQ: ${parked.count} (${Object.entries(parked.reasons)
          .map(([reason, n]) => `${reason} ${n}`)
          .join(', ')})`,
      );
    }
    for (const left of result.unfinished) line(`still queued in ${left.queue} after the wait: ${left.waiting}`);
  }
  if (refused) throw new CommandFailed('', 1);
  if (result.parked.length > 0 || result.unfinished.length > 0)
    throw new CommandFailed('the sample was accepted but not all of it was delivered (see above)', 1);
}
