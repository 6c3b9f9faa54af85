import { fork } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Context, S3Event } from 'aws-lambda';
import { startFauxqs } from 'fauxqs';
import { catalogue, uploadJobs as jobs } from '../functions/catalogue';
import type { JobOutcome, JobProgress } from '../functions/core/catalogue-types';
import { createDeps, type Deps } from '../functions/core/deps';
import type { HttpClient } from '../functions/core/http';
import { EnvSecretStore } from '../functions/core/secrets';
import { lambdaContext } from './lambda-context';
import { checkedConfig, type Sandbox, startSandboxFor } from './sandbox';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The local stand-in for the imports bucket; uploads go under the job's prefix, as in AWS. */
export const LOCAL_BUCKET = 'bpb-imports';
const MB = 1024 * 1024;
const plural = (count: number, noun: string) => `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;

export interface JobRunOptions {
  /** The catalogue job to run (e.g. `lytics-csv-import`). */
  job: string;
  /** The file to upload (e.g. a Braze segment export). */
  file: string;
  /** SPEC section 5 variables (the owner's URL and credentials) plus its settings; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Where the readable lines go. */
  log?: (line: string) => void;
  /** Test knob: the HTTP client (e.g. a fast retry policy); in this process only, not with `isolate`. */
  http?: HttpClient;
  /**
   * Run the handler in a child process of its own (the bench does): peakRssMb is then the job's
   * alone, the kernel's high-water mark for that process, and not the embedded S3's copy of the file.
   */
  isolate?: boolean;
}

/** Everything a process needs to invoke a job's handler on an uploaded object of the embedded S3. */
export interface JobInvocation {
  job: string;
  bucket: string;
  key: string;
  fileBytes: number;
  eTag?: string;
  s3Endpoint: string;
  /** The configuration (the sandbox's URLs and stand-in credentials filled in). */
  env: Record<string, string | undefined>;
}

/** One invocation's outcome, time and memory (bytes) as the process that ran it saw them. */
export interface JobRun {
  outcomes: JobOutcome[];
  seconds: number;
  /** CPU time (user + system) of the handler's process while the handler ran. */
  cpuSeconds: number;
  /** RSS just before the handler started. */
  rssBefore: number;
  peakRss: number;
}

/** A job module: `build(deps, s3, hooks)` returns the Lambda handler (see functions/lytics/csv-import.ts). */
interface JobModule {
  build: (deps: Deps, s3: S3Client, hooks: { onProgress?: (progress: JobProgress) => void }) => (event: S3Event, context: Context) => Promise<JobOutcome[]>;
}

export interface JobFigures {
  rows: number;
  requests: number;
  rejected: number;
  /** Time spent by the handler (download, parse, upload to Lytics), not the local S3 upload. */
  seconds: number;
  /** Of `seconds`, the time spent checking the whole file before sending (jobs that do). */
  checkSeconds?: number;
  /** CPU time (user + system) of the handler's process while it ran: with `isolate`, the job's alone. */
  cpuSeconds: number;
  rowsPerSecond: number;
  fileMb: number;
  /**
   * The handler's process at its peak: in-process, the highest RSS sampled while the handler ran,
   * which includes the embedded S3's copy of the whole file (about fileMb); with `isolate`, the
   * child process's high-water mark (VmHWM), the job's memory alone.
   */
  peakRssMb: number;
  /** RSS of the handler's process just before the handler started. */
  rssBeforeMb: number;
  /** With `isolate`: the highest RSS sampled in this process (the embedded S3 holding the file, the sandbox) while the job ran. */
  emulatorsPeakRssMb?: number;
  /** Whether the handler ran in a child process of its own. */
  isolated: boolean;
  /** Where the rows went: `sandbox` or the destination's base URL. */
  destination: string;
}

/** An S3 `ObjectCreated:Put` event as AWS delivers it to Lambda: the key URL-encoded, `+` for spaces. */
export function s3ObjectCreatedEvent(
  bucket: string,
  key: string,
  size: number,
  eTag = '',
  region = 'us-east-1',
  configurationId = 'bridge-upload-job',
): S3Event {
  const encodedKey = key
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/%20/g, '+'))
    .join('/');
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:LOCAL' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'LOCAL', 'x-amz-id-2': 'LOCAL' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId,
          bucket: { name: bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodedKey, size, eTag: eTag.replace(/"/g, ''), sequencer: Date.now().toString(16).toUpperCase() },
        },
      },
    ],
  };
}

export interface EmbeddedS3 {
  /** A client for the handler. */
  s3: S3Client;
  endpoint: string;
  /** Another client (e.g. for uploads, destroyed afterwards so its connections' buffers go too). */
  newClient: () => S3Client;
  createBucket: (name: string) => void;
  stop: () => Promise<void>;
}

/** fauxqs as S3 on a free loopback port, with path-style clients pointed at it. */
export async function startEmbeddedS3(): Promise<EmbeddedS3> {
  const fauxqs = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' } as Parameters<typeof startFauxqs>[0]);
  const endpoint = `http://127.0.0.1:${fauxqs.port}`;
  const newClient = () =>
    new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const s3 = newClient();
  return {
    s3,
    endpoint,
    newClient,
    createBucket: (name) => void fauxqs.createBucket(name),
    stop: async () => {
      s3.destroy();
      await fauxqs.stop();
    },
  };
}

/**
 * Uploads a file as a stream (multipart above 5 MB, so never read whole) with a client of its own,
 * closed afterwards: the emulator keeps each connection's last request body (a 5 MB part) until
 * the connection goes. Returns the object's ETag.
 */
export async function uploadFile(local: EmbeddedS3, bucket: string, key: string, file: string): Promise<string | undefined> {
  const client = local.newClient();
  try {
    const uploaded = await new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(file), ContentType: 'text/csv' } }).done();
    return uploaded.ETag;
  } finally {
    client.destroy();
  }
}

/** This process's peak RSS so far, as the kernel keeps it (VmHWM on Linux, ru_maxrss elsewhere), in bytes. */
function peakRssSoFar(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Samples RSS every few ms until stopped; returns the highest value seen. */
export function rssSampler(intervalMs = 20) {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/**
 * `npm run job -- <job> <file>`, as a library: an embedded S3 (fauxqs), the file uploaded to it as a
 * stream under the job's prefix, then the job's Lambda handler invoked with the S3 event AWS would
 * send, in this process or (`isolate`) in a child of its own. The job's partner is the built-in
 * sandbox unless its URL is set.
 */
export async function runJob(options: JobRunOptions): Promise<JobFigures> {
  const job = catalogue.uploadJob(options.job);
  const partner = catalogue.partner(job.destination);
  const env = { ...(options.env ?? process.env) };
  const log = options.log ?? ((line: string) => console.log(line));
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // EMF lines belong in CloudWatch, not on a terminal
  env.LOG_LEVEL ??= 'SILENT'; // progress and failures are printed below; LOG_LEVEL=INFO shows the Lambda's JSON logs too

  const fileBytes = (await stat(options.file)).size;
  let sandbox: Sandbox | undefined;
  let embedded: EmbeddedS3 | undefined;
  try {
    const local = await startSandboxFor([partner], env, log);
    sandbox = local.sandbox;
    const config = checkedConfig(env, [partner]); // a bad setting fails here, naming it

    embedded = await startEmbeddedS3();
    embedded.createBucket(LOCAL_BUCKET);
    const key = `${job.trigger.prefix}${path.basename(options.file)}`;
    log(`uploading ${path.basename(options.file)} (${(fileBytes / MB).toFixed(1)} MB) to the embedded S3 as s3://${LOCAL_BUCKET}/${key}`);
    const eTag = await uploadFile(embedded, LOCAL_BUCKET, key, options.file);

    const destination = local.sandboxed.length > 0 ? 'sandbox' : (config.env[partner.sandbox?.urlSetting ?? ''] ?? partner.id);
    log(`running ${job.id} into ${partner.id} (${destination})${options.isolate ? ' in a child process' : ''}`);
    let sent: JobProgress = { rows: 0, requests: 0 };
    const onProgress = (p: JobProgress) => {
      sent = p;
      log(`  ${plural(p.rows, 'row')} sent (${plural(p.requests, 'request')})`);
    };
    const invocation: JobInvocation = { job: job.id, bucket: LOCAL_BUCKET, key, fileBytes, eTag, s3Endpoint: embedded.endpoint, env };
    const emulators = rssSampler();
    let emulatorsPeakRss = 0;
    const run = await (options.isolate
      ? invokeJobInChild(invocation, onProgress)
      : invokeJob(invocation, { s3: embedded.s3, http: options.http, onProgress, memory: 'sampled' })
    )
      .catch((error: unknown) => {
        log(`stopped after ${plural(sent.rows, 'row')} sent in ${plural(sent.requests, 'request')}`);
        throw error;
      })
      .finally(() => {
        emulatorsPeakRss = emulators.stop();
      });
    const figures = jobFigures(run, { fileBytes, destination, ...(options.isolate ? { emulatorsPeakRss } : {}) });
    log(
      `imported ${plural(figures.rows, 'row')} in ${plural(figures.requests, 'request')} (${figures.rejected} rejected by ${partner.id}) ` +
        `in ${figures.seconds.toFixed(1)} s, ${Math.round(figures.rowsPerSecond).toLocaleString('en-US')} rows/s; ${memoryLine(figures)}`,
    );
    return figures;
  } finally {
    await embedded?.stop();
    await sandbox?.stop();
  }
}

function memoryLine(figures: JobFigures): string {
  const mb = (value: number) => `${value.toFixed(0)} MB`;
  if (figures.isolated) {
    return (
      `the job's process peaked at ${mb(figures.peakRssMb)} RSS (VmHWM; ${mb(figures.rssBeforeMb)} before the import), ` +
      `the emulators' at ${mb(figures.emulatorsPeakRssMb ?? 0)} (the embedded S3 holding the ${mb(figures.fileMb)} file, the sandbox)`
    );
  }
  const held = `of which ~${mb(figures.fileMb)} is the file held by the embedded S3`;
  return `peak RSS ${mb(figures.peakRssMb)} (${mb(figures.rssBeforeMb)} before the import, ${held})`;
}

/**
 * Builds the job's handler as Lambda would and invokes it once on the uploaded object. Memory is
 * `sampled` (RSS every 20 ms, for a process that holds other things too) or the process's
 * `high-water` mark (a process of its own, so its peak is the job's).
 */
export async function invokeJob(
  invocation: JobInvocation,
  options: { s3: S3Client; http?: HttpClient; onProgress: (progress: JobProgress) => void; memory: 'sampled' | 'high-water' },
): Promise<JobRun> {
  const job = catalogue.uploadJob(invocation.job);
  const partner = catalogue.partner(job.destination);
  const config = checkedConfig(invocation.env, [partner]);
  const deps = createDeps(job.flowId, config, { secrets: EnvSecretStore.fromConfig(config), ...(options.http ? { http: options.http } : {}) });
  const mod = (await import(path.join(projectRoot, job.entry))) as JobModule;
  const handler = mod.build(deps, options.s3, { onProgress: options.onProgress });
  const event = s3ObjectCreatedEvent(invocation.bucket, invocation.key, invocation.fileBytes, invocation.eTag, 'us-east-1', job.id);

  const rssBefore = process.memoryUsage.rss();
  const sampler = options.memory === 'sampled' ? rssSampler() : undefined;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcomes = await handler(event, lambdaContext(job.flowId, job.timeoutSeconds, job.memoryMb)).finally(() => sampler?.stop());
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { outcomes, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssBefore, peakRss: sampler?.stop() ?? peakRssSoFar() };
}

/** What the child process (local/job-process.ts) reports over IPC. */
export type JobProcessMessage = { kind: 'progress'; progress: JobProgress } | { kind: 'done'; run: JobRun } | { kind: 'failed'; name: string; message: string };

/** invokeJob in a child process of its own (Node with tsx, as `npm run` runs this), its progress and outcome over IPC. */
function invokeJobInChild(invocation: JobInvocation, onProgress: (progress: JobProgress) => void): Promise<JobRun> {
  const child = fork(path.join(projectRoot, 'local/job-process.ts'), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    // This process's environment as runJob left it (POWERTOOLS_METRICS_DISABLED), given explicitly: a test runner may sandbox process.env.
    env: { ...process.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<JobRun>((resolve, reject) => {
    let settled = false;
    child.on('message', (message: JobProcessMessage) => {
      if (message.kind === 'progress') onProgress(message.progress);
      else if (message.kind === 'done') {
        settled = true;
        resolve(message.run);
      } else {
        settled = true;
        reject(Object.assign(new Error(message.message), { name: message.name }));
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!settled) reject(new Error(`the job's process ended (${signal ?? `exit code ${code}`}) before it reported`));
    });
    child.send(invocation);
  });
}

/** A run's figures from the outcomes of the files it imported, its time and its memory. */
function jobFigures(run: JobRun, about: { fileBytes: number; destination: string; emulatorsPeakRss?: number }): JobFigures {
  const rows = run.outcomes.reduce((n, i) => n + i.rows, 0);
  return {
    rows,
    requests: run.outcomes.reduce((n, i) => n + i.requests, 0),
    rejected: run.outcomes.reduce((n, i) => n + i.rejected, 0),
    seconds: run.seconds,
    ...(run.outcomes.some((o) => o.checkSeconds !== undefined) ? { checkSeconds: run.outcomes.reduce((n, o) => n + (o.checkSeconds ?? 0), 0) } : {}),
    cpuSeconds: run.cpuSeconds,
    rowsPerSecond: run.seconds > 0 ? rows / run.seconds : rows,
    fileMb: about.fileBytes / MB,
    peakRssMb: run.peakRss / MB,
    rssBeforeMb: run.rssBefore / MB,
    ...(about.emulatorsPeakRss === undefined ? {} : { emulatorsPeakRssMb: about.emulatorsPeakRss / MB }),
    isolated: about.emulatorsPeakRss !== undefined,
    destination: about.destination,
  };
}

async function main(): Promise<void> {
  const [jobId] = process.argv.slice(2);
  const job = jobs.some((candidate) => candidate.id === jobId) ? catalogue.uploadJob(jobId as string) : undefined;
  const extra = Object.keys(job?.localOptions ?? {});
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    args: process.argv.slice(3),
    options: {
      ...Object.fromEntries(extra.map((name) => [name, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
  });
  const file = positionals[0];
  if (!job || values.help || !file || positionals.length > 1) {
    console.log(`usage: npm run job -- <${jobs.map((j) => j.id).join('|')}> <file>${extra.map((name) => ` [--${name} <value>]`).join('')}`);
    if (job) {
      const partner = catalogue.partner(job.destination);
      console.log(
        `${job.id}: ${job.description}. ${partner.id}: the built-in sandbox unless ${partner.sandbox?.urlSetting ?? 'its URL'} and its credentials are set.`,
      );
    }
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [name, variable] of Object.entries(job.localOptions ?? {})) {
    const value = (values as Record<string, string | boolean | undefined>)[name];
    if (typeof value === 'string') env[variable] = value;
  }
  await runJob({ job: job.id, file, env });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    // One line, no stack: our messages name a line, a status or a setting, never a value or a token.
    console.error(`import failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
