import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Context } from 'aws-lambda';
import { SingleBar } from 'cli-progress';
import { catalogue, scheduledJobs } from '../functions/catalogue';
import type { JobStepEvent, JobStepResult, Partner, ScheduledJob } from '../functions/core/catalogue-types';
import { type Clock, systemClock } from '../functions/core/clock';
import type { Config } from '../functions/core/config';
import { createDeps, type Deps } from '../functions/core/deps';
import type { HttpClient } from '../functions/core/http';
import type { JobStateStore } from '../functions/core/job-state';
import { EnvSecretStore } from '../functions/core/secrets';
import { startEmbeddedDynamo } from './embedded-dynamodb';
import { lambdaContext } from './lambda-context';
import { rssSampler } from './run-job';
import { checkedConfig, startSandboxFor } from './sandbox';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MB = 1024 * 1024;

/** What a scheduled job's step reports as it goes (the ODP sync's SyncProgress has these and more). */
export interface StepProgress {
  phase: string;
  segmentNumber?: number;
  segmentCount?: number;
  segmentName?: string;
  usersRead?: number;
  profilesSent?: number;
  requests?: number;
  rejected?: number;
  skipped?: number;
}

/** A scheduled job's module: `build(deps, options)` returns the step handler. */
interface StepModule {
  build: (
    deps: Deps,
    options: { store?: JobStateStore; onProgress?: (progress: StepProgress) => void },
  ) => (event: JobStepEvent, context: Context) => Promise<JobStepResult>;
}

export interface ScheduledRunOptions {
  job: string;
  /** SPEC section 5 variables and the jobs' settings; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Where the readable lines go. */
  log?: (line: string) => void;
  /** Draw a progress bar (a terminal); otherwise a line per phase and every `lineEvery` calls. */
  bar?: boolean;
  lineEvery?: number;
  /** Request bodies the sandbox keeps for GET /_sandbox/requests (the benchmark keeps few, to measure the job). */
  sandboxBodies?: number;
  /** Test knobs. */
  http?: HttpClient;
  clock?: Clock;
  runId?: string;
}

export interface ScheduledRunFigures {
  runId: string;
  steps: number;
  waits: number;
  summary: Readonly<Record<string, number>>;
  /** Wall time of the whole run, waits included. */
  seconds: number;
  peakRssMb: number;
  destinations: string;
}

/** How a run reports its progress: a bar on a terminal, otherwise a line per phase and every `lineEvery` calls. */
function progressReporter(options: ScheduledRunOptions, log: (line: string) => void, clock: Clock) {
  const started = clock.now();
  const lineEvery = options.lineEvery ?? 20;
  let lastPhase = '';
  let lastLineAt = 0;
  const rate = (sent: number) => {
    const seconds = (clock.now() - started) / 1000;
    return seconds > 0 ? Math.round(sent / seconds) : 0;
  };
  const bar = options.bar
    ? new SingleBar({
        format: ' {bar} segment {value}/{total} {segment} | {phase} | {sent} profiles sent, {read} users read | {rate}/s',
        hideCursor: true,
        barsize: 24,
      })
    : undefined;
  bar?.start(1, 0, { segment: '', phase: 'list', sent: '0', read: '0', rate: '0' });

  const drawBar = (bar: SingleBar, p: StepProgress) => {
    const sent = p.profilesSent ?? 0;
    bar.setTotal(Math.max(1, p.segmentCount ?? 1));
    const done = p.phase === 'done' ? (p.segmentCount ?? 1) : Math.max(0, (p.segmentNumber ?? 1) - 1);
    const count = (n: number) => n.toLocaleString('en-US');
    bar.update(done, { segment: p.segmentName ?? '', phase: p.phase, sent: count(sent), read: count(p.usersRead ?? 0), rate: count(rate(sent)) });
  };
  const printLine = (p: StepProgress) => {
    const calls = p.requests ?? 0;
    const key = `${p.phase}:${p.segmentNumber}`;
    if (key === lastPhase && calls - lastLineAt < lineEvery) return;
    lastPhase = key;
    lastLineAt = calls;
    const segment = p.segmentCount ? ` segment ${p.segmentNumber}/${p.segmentCount}${p.segmentName ? ` (${p.segmentName})` : ''}` : '';
    log(
      `  ${p.phase}${segment}: ${(p.profilesSent ?? 0).toLocaleString('en-US')} profiles sent in ${calls.toLocaleString('en-US')} ` +
        `calls, ${(p.usersRead ?? 0).toLocaleString('en-US')} users read`,
    );
  };
  return {
    started,
    /** True when a bar is drawn (lines would tear it). */
    drawing: () => bar !== undefined,
    onProgress: (p: StepProgress) => (bar ? drawBar(bar, p) : printLine(p)),
    [Symbol.dispose]: () => {
      if (bar?.isActive) bar.stop();
    },
  };
}

/** The local environment of a job: the given variables, then the job's local defaults. */
function jobEnv(job: ScheduledJob, options: ScheduledRunOptions): Record<string, string | undefined> {
  const env = { ...(options.env ?? process.env) };
  for (const [name, value] of Object.entries(job.localDefaults ?? {})) env[name] ??= value;
  env.LOG_LEVEL ??= 'SILENT'; // progress and failures are printed here; LOG_LEVEL=INFO shows the Lambda's JSON logs too
  return env;
}

/** Where each partner the job calls is: `odp: sandbox, braze: https://...`. */
const destinationsLine = (partners: readonly Partner[], sandboxed: readonly string[], config: Config) =>
  partners.map((p) => `${p.id}: ${sandboxed.includes(p.id) ? 'sandbox' : (config.env[p.sandbox?.urlSetting ?? ''] ?? 'set')}`).join(', ');

/**
 * One run of a scheduled job, locally: the loop the Step Functions state machine runs in AWS
 * (invoke the step; `wait` -> sleep, `continue` -> invoke again, `done` -> stop), with the step's
 * state in an embedded DynamoDB table (dynalite) and every partner the job calls answered by its
 * sandbox unless its URL is set.
 */
export async function runScheduledJob(options: ScheduledRunOptions): Promise<ScheduledRunFigures> {
  const job: ScheduledJob = catalogue.scheduledJob(options.job);
  const partners = [job.destination, ...(job.alsoReads ?? [])].map((id) => catalogue.partner(id));
  const env = jobEnv(job, options);
  const log = options.log ?? ((line: string) => console.log(line));
  const clock = options.clock ?? systemClock;
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // EMF lines belong in CloudWatch, not on a terminal

  // Torn down in reverse order, whatever happens: the bar, the sandbox, the embedded DynamoDB, the RSS sampler.
  await using stack = new AsyncDisposableStack();
  const sampler = rssSampler(50);
  stack.defer(() => void sampler.stop());
  const dynamo = await startEmbeddedDynamo();
  stack.defer(() => dynamo.stop());
  const { sandbox, sandboxed } = await startSandboxFor(partners, env, options.bar ? () => undefined : log, { keepBodies: options.sandboxBodies });
  stack.defer(() => sandbox.stop());
  const config = checkedConfig(env, partners); // a bad setting fails here, naming it
  const destinations = destinationsLine(partners, sandboxed, config);

  const runId = options.runId ?? `local-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
  log(`running ${job.id} (run ${runId}); ${destinations}`);
  const store = await dynamo.jobStateStore();
  const deps = createDeps(job.flowId, config, { secrets: EnvSecretStore.fromConfig(config), clock, ...(options.http ? { http: options.http } : {}) });
  const progress = stack.use(progressReporter(options, log, clock));
  const mod = (await import(path.join(projectRoot, job.entry))) as StepModule;
  const step = mod.build(deps, { store, onProgress: progress.onProgress });

  let steps = 0;
  let waits = 0;
  for (;;) {
    steps++;
    const result = await step({ runId }, lambdaContext(job.flowId, job.timeoutSeconds, job.memoryMb));
    if (result.status === 'done') {
      progress[Symbol.dispose]();
      const seconds = (clock.now() - progress.started) / 1000;
      log(`${job.id} finished in ${seconds.toFixed(1)} s (${steps} step${steps === 1 ? '' : 's'}, ${waits} wait${waits === 1 ? '' : 's'}):`);
      log(
        `  ${Object.entries(result.summary)
          .map(([name, value]) => `${name} ${value.toLocaleString('en-US')}`)
          .join(', ')}`,
      );
      return { runId, steps, waits, summary: result.summary, seconds, peakRssMb: sampler.stop() / MB, destinations };
    }
    if (result.status === 'wait') {
      waits++;
      if (!progress.drawing()) log(`  waiting ${result.waitSeconds} s for the export to be ready`);
      await clock.sleep(result.waitSeconds * 1000);
    }
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  const job = scheduledJobs.some((candidate) => candidate.id === positionals[0]) ? catalogue.scheduledJob(positionals[0] as string) : undefined;
  if (!job || values.help || positionals.length > 1) {
    const ids = scheduledJobs.map((j) => j.id).join('|');
    const scripts = scheduledJobs.map((j) => j.localScript).join(', npm run ');
    console.log(`usage: tsx local/run-scheduled-job.ts <${ids}>   (npm run ${scripts})`);
    for (const known of scheduledJobs) console.log(`${known.id}: ${known.description}`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  await runScheduledJob({ job: job.id, bar: Boolean(process.stdout.isTTY) });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    // One line, no stack: our messages name a segment, a status or a setting, never a value or a key.
    console.error(`\nsync failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
