import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deliveryQueues, ingressFlows, jobs } from '../functions/catalogue';
import { INGRESS_MEMORY_MB } from '../lib/bridge-stack';
import { type Runner, type RunnerHooks, startRunner } from '../local/runner';
import { audienceBodies } from './backfill';
import { countingLogBytes, InvocationMeter, SqsMeter } from './meter';
import { HTTP_API_BILLING_CHUNK_BYTES, PRICES_AS_OF, PRICES_REGION, type Price, prices } from './prices';
import { StubServer } from './support/stub-server';

/**
 * What a million records would cost in AWS, measured through the local runner: the same handler
 * modules, SQS (fauxqs) and pollers as `npm start`, with every billable request counted (API
 * Gateway requests as the bench sends them, SQS requests by a middleware on the runner's one SQS
 * client, Lambda invocations and their durations through the runner's `onInvoke`, log bytes from
 * the handlers' stdout), then scaled to 1,000,000 records and priced with bench/prices.ts.
 */

export interface CostOptions {
  backfillRecords: number;
  callbacks: number;
  /** Callbacks a second in the realtime scenario. */
  callbackRate?: number;
  /** Callbacks sent one at a time (each delivered before the next) in the quiet-hour scenario. */
  trickle?: number;
  /** How long Braze takes to answer a /users/track call (the stub's delay). */
  brazeLatencyMs?: number;
  /** Added to every SQS request, for an in-region round trip (fauxqs answers locally in well under 1 ms). */
  sqsLatencyMs?: number;
}

interface CostLine {
  item: string;
  /** Per 1,000,000 records. */
  count: number;
  price?: Price;
  usd: number;
  detail: string;
}

export interface ScenarioCost {
  title: string;
  how: string;
  records: number;
  seconds: number;
  lines: CostLine[];
  totalUsd: number;
}

/** Memory of each function, by the flow its invocations report: an ingress's flow id, a consumer's or job's flowId. */
const memoryMbOf = new Map<string, number>([
  ...ingressFlows.map((flow) => [flow.id, INGRESS_MEMORY_MB] as const),
  ...deliveryQueues.map((queue) => [queue.consumer.flowId, queue.consumer.memoryMb] as const),
  ...jobs.map((job) => [job.flowId, job.memoryMb] as const),
]);

/**
 * Lambda's own lines per invocation (START, END, REPORT: about 260 bytes with request ids and
 * durations), and CloudWatch's 26 bytes of overhead per log event. An estimate, not measured.
 */
const PLATFORM_LOG_BYTES_PER_INVOCATION = 260 + 3 * 26;
const LOG_EVENT_OVERHEAD_BYTES = 26;

interface Measured {
  records: number;
  seconds: number;
  apiRequests: number;
  apiBilled: number;
  sqs: SqsMeter;
  invocations: InvocationMeter;
  logs: { lines: number; bytes: number; metricLines: number; metricBytes: number };
  brazeCalls: number;
  brazeObjects: number;
  /** Bytes leaving AWS: the answers to the senders (through API Gateway) and the calls to Braze, bodies and headers. */
  bytesOut: number;
}

const seedCallback = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../test/fixtures/seen/callback.json'), 'utf8')) as Record<string, unknown>;

interface Sent {
  /** The request's body: what API Gateway meters. */
  requestBytes: number;
  /** The answer, body and headers: data transferred out. */
  answerBytes: number;
}

const headerBytes = (headers: Iterable<[string, string | string[] | undefined]>) =>
  [...headers].reduce((n, [name, value]) => n + Buffer.byteLength(`${name}: ${[value ?? ''].flat().join(',')}\r\n`), 0);

async function post(runner: Runner, route: string, body: unknown): Promise<Sent> {
  const text = JSON.stringify(body);
  const response = await fetch(`${runner.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${runner.inboundToken}`, 'content-type': 'application/json' },
    body: text,
  });
  const answer = await response.arrayBuffer();
  if (response.status !== 202) throw new Error(`${route} answered ${response.status}`);
  return { requestBytes: Buffer.byteLength(text, 'utf8'), answerBytes: answer.byteLength + headerBytes(response.headers.entries()) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * One scenario through a fresh runner whose Braze is a stub answering after `brazeLatencyMs`:
 * `drive` sends the records (returning each request's body size), then waits until Braze has them all.
 */
async function measure(
  options: Required<CostOptions>,
  records: number,
  drive: (runner: Runner, delivered: () => number) => Promise<Sent[]>,
  hooks: RunnerHooks = {},
): Promise<Measured> {
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' }, delayMs: options.brazeLatencyMs }));
  const brazeUrl = await braze.start();
  const delivered = () => braze.requests.reduce((n, r) => n + ((r.body as { attributes?: unknown[] }).attributes?.length ?? 0), 0);
  const invocations = new InvocationMeter();
  const metricsWere = process.env.POWERTOOLS_METRICS_DISABLED;
  // The EMF lines are log bytes too: let the handlers print them, as in Lambda.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  let sqs: SqsMeter | undefined;
  try {
    const { result, ...logs } = await countingLogBytes(async () => {
      const runner = await startRunner(
        {
          env: { ...process.env, PORT: '0', LOG_LEVEL: 'INFO', DATA_DIR: ':memory:', BRAZE_REST_ENDPOINT: brazeUrl, BRAZE_API_KEY: 'bench' },
          log: () => undefined,
        },
        {
          onInvoke: invocations.onInvoke,
          // The SEEN drain runs on its schedule whatever arrives: a fixed cost, not a per-record one.
          schedules: false,
          ...hooks,
        },
      );
      try {
        sqs = new SqsMeter(runner.sqs, options.sqsLatencyMs);
        // A long poll already waiting went out before the meter was on the client's stack: let it end.
        await sleep(1_200);
        sqs.counting = true;
        invocations.counting = true;
        const started = performance.now();
        const sizes = await drive(runner, delivered);
        while (delivered() < records) {
          if (performance.now() - started > 600_000) throw new Error(`only ${delivered()} of ${records} records reached Braze after 10 minutes`);
          await sleep(10);
        }
        // Let the last invocations end and their messages be deleted before counting stops.
        await sleep(1_500);
        sqs.counting = false;
        invocations.counting = false;
        return { sizes, seconds: (performance.now() - started) / 1000 };
      } finally {
        await runner.stop();
      }
    });
    return {
      records,
      seconds: result.seconds,
      apiRequests: result.sizes.length,
      apiBilled: result.sizes.reduce((n, sent) => n + Math.max(1, Math.ceil(sent.requestBytes / HTTP_API_BILLING_CHUNK_BYTES)), 0),
      sqs: sqs!,
      invocations,
      logs,
      brazeCalls: braze.requests.length,
      brazeObjects: delivered(),
      bytesOut:
        result.sizes.reduce((n, sent) => n + sent.answerBytes, 0) +
        braze.requests.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r.body ?? '')) + headerBytes(Object.entries(r.headers)), 0),
    };
  } finally {
    if (metricsWere === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = metricsWere;
    await braze.stop();
  }
}

function priced(m: Measured, title: string, how: string): ScenarioCost {
  const scale = 1_000_000 / m.records;
  const lines: CostLine[] = [];
  const line = (item: string, count: number, price: Price | undefined, detail: string) =>
    lines.push({ item, count: count * scale, price, usd: price ? count * scale * price.usd : 0, detail });

  line('API Gateway HTTP API requests', m.apiBilled, prices.httpApiRequest, `${m.apiRequests} requests of the ${m.records.toLocaleString('en-US')} records`);

  const flows = [...m.invocations.byFlow].sort(([a], [b]) => a.localeCompare(b));
  const invocations = flows.reduce((n, [, f]) => n + f.invocations, 0);
  line('Lambda requests', invocations, prices.lambdaRequest, flows.map(([flow, f]) => `${flow} ${f.invocations}`).join(', '));
  let gbSeconds = 0;
  for (const [flow, f] of flows) {
    const memoryMb = memoryMbOf.get(flow);
    if (memoryMb === undefined) throw new Error(`no memory size known for flow ${flow}`);
    gbSeconds += (f.billedMs / 1000) * (memoryMb / 1024);
  }
  line(
    'Lambda duration (Arm, GB-s)',
    gbSeconds,
    prices.lambdaArmGbSecond,
    flows.map(([flow, f]) => `${flow} ${(f.billedMs / f.invocations).toFixed(0)} ms x ${memoryMbOf.get(flow)} MB`).join(', '),
  );

  const sqsDetail = [...m.sqs.counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([command, c]) => {
      const name = command.replace(/Command$/, '');
      return command === 'ReceiveMessageCommand'
        ? `${name} ${c.requests - c.empty} (+${c.empty} empty, left out)`
        : `${name} ${c.requests}${c.billed > c.requests ? ` (${c.billed} billed)` : ''}`;
    })
    .join(', ');
  line('SQS requests (64 KB units)', m.sqs.billedPerRecordTraffic(), prices.sqsStandardRequest, sqsDetail);

  // What Lambda would ingest into CloudWatch Logs: the handlers' Powertools lines and EMF metrics as
  // measured, one "downstream call" line per Braze call (locally the runner logs those itself),
  // sized like the measured lines, and Lambda's START / END / REPORT lines.
  const averageLine = m.logs.lines > 0 ? m.logs.bytes / m.logs.lines : 400;
  const logBytes =
    m.logs.bytes +
    m.logs.metricBytes +
    (m.logs.lines + m.logs.metricLines) * LOG_EVENT_OVERHEAD_BYTES +
    m.brazeCalls * (averageLine + LOG_EVENT_OVERHEAD_BYTES) +
    invocations * PLATFORM_LOG_BYTES_PER_INVOCATION;
  line(
    'CloudWatch Logs ingested (GB)',
    logBytes / 1024 ** 3,
    prices.cloudWatchLogsIngestedGb,
    `${(logBytes / invocations).toFixed(0)} bytes an invocation: ${m.logs.lines} log + ${m.logs.metricLines} ` +
      `EMF lines measured, ${m.brazeCalls} downstream-call lines and Lambda's own lines estimated`,
  );

  line(
    'Data transfer out (GB)',
    m.bytesOut / 1024 ** 3,
    prices.dataTransferOutGb,
    `${(m.bytesOut / m.records).toFixed(0)} bytes a record: answers to the senders, calls to Braze`,
  );
  line('Secrets Manager GetSecretValue', 0, prices.secretsManagerApiCall, 'cached 5 min per execution environment: a few an hour, not per record (left out)');
  line(
    'Braze /users/track calls',
    m.brazeCalls,
    undefined,
    `${(m.brazeObjects / m.brazeCalls).toFixed(1)} objects a call; priced by the Braze contract, not AWS`,
  );
  return { title, how, records: m.records, seconds: m.seconds, lines, totalUsd: lines.reduce((n, l) => n + l.usd, 0) };
}

export async function benchCost(input: CostOptions): Promise<ScenarioCost[]> {
  const options: Required<CostOptions> = { callbackRate: 50, trickle: 100, brazeLatencyMs: 200, sqsLatencyMs: 10, ...input };
  const scenarios: ScenarioCost[] = [];
  const setting = `Braze answering in ${options.brazeLatencyMs} ms, ${options.sqsLatencyMs} ms added to each SQS request`;

  const bodies = audienceBodies(options.backfillRecords);
  const backfill = await measure(options, options.backfillRecords, async (runner) => {
    const sizes: Sent[] = [];
    let next = 0;
    const sender = async () => {
      while (next < bodies.length) sizes.push(await post(runner, '/lytics/audiences', bodies[next++]));
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    return sizes;
  });
  scenarios.push(
    priced(
      backfill,
      'Lytics audience backfill',
      `${options.backfillRecords.toLocaleString('en-US')} records in POSTs of 1,000, 8 at a time, into the bulk lane; ${setting}`,
    ),
  );

  const realtime = await measure(options, options.callbacks, async (runner) => {
    const sent: Promise<Sent>[] = [];
    const started = performance.now();
    for (let i = 0; i < options.callbacks; i++) {
      await sleep(started + (i * 1000) / options.callbackRate - performance.now());
      sent.push(post(runner, '/seen/callback', { ...seedCallback, customer_id: `bench-${i}` }));
    }
    return Promise.all(sent);
  });
  scenarios.push(
    priced(
      realtime,
      'SEEN callbacks, a busy campaign',
      `${options.callbacks.toLocaleString('en-US')} callbacks, ${options.callbackRate} a second, into the realtime lane (1 s window); ${setting}`,
    ),
  );

  // One at a time, each delivered before the next is sent: every callback an invocation and a
  // Braze call of its own (the window only delays it, so it is 0 here to keep the bench short).
  const quiet = await measure(
    options,
    options.trickle,
    async (runner, delivered) => {
      const sizes: Sent[] = [];
      for (let i = 0; i < options.trickle; i++) {
        sizes.push(await post(runner, '/seen/callback', { ...seedCallback, customer_id: `bench-${i}` }));
        while (delivered() <= i) await sleep(5);
      }
      return sizes;
    },
    { consumerOverrides: { maxBatchingWindowSeconds: 0 } },
  );
  scenarios.push(priced(quiet, 'SEEN callbacks, a quiet hour', `${options.trickle} callbacks one at a time, each delivered before the next; ${setting}`));
  return scenarios;
}

const usd = (n: number) => (n === 0 ? '-' : n < 0.01 ? `$${n.toPrecision(2)}` : `$${n.toFixed(2)}`);
const unitPrice = (price?: Price) => {
  if (!price) return 'n/a';
  const perMillion = price.usd * 1e6;
  if (price.unit === 'GB') return `$${price.usd.toFixed(2)}/GB`;
  if (price.unit === 'GB-s') return `$${price.usd}/GB-s`;
  if (price.unit === 'API call') return `$${(price.usd * 1e4).toFixed(2)}/10k`;
  return `$${perMillion.toFixed(2)}/M`;
};
const count = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 1 ? 1 : 3));

export function printCost(scenarios: readonly ScenarioCost[]): void {
  console.log(
    `Cost per 1,000,000 records in AWS (${PRICES_REGION} list prices as of ${PRICES_AS_OF}, bench/prices.ts; no free tier), measured through the local runner`,
  );
  for (const s of scenarios) {
    console.log(`\n  ${s.title}: ${s.how} (${s.seconds.toFixed(1)} s)`);
    console.log(`  ${'item'.padEnd(32)} ${'per 1M records'.padStart(15)} ${'unit price'.padStart(16)} ${'cost'.padStart(9)}   how counted`);
    for (const l of s.lines) {
      const flag = l.price && !l.price.sure ? ' (price unsure)' : '';
      console.log(`  ${l.item.padEnd(32)} ${count(l.count).padStart(15)} ${unitPrice(l.price).padStart(16)} ${usd(l.usd).padStart(9)}   ${l.detail}${flag}`);
    }
    console.log(`  ${'total'.padEnd(32)} ${''.padStart(15)} ${''.padStart(16)} ${usd(s.totalUsd).padStart(9)}   ${usd(s.totalUsd / 1000)} per 1,000 records`);
  }
}
