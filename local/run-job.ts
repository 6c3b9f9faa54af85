import { createReadStream } from 'node:fs';
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
  /** Test knob: the HTTP client (e.g. a fast retry policy). */
  http?: HttpClient;
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
  rowsPerSecond: number;
  fileMb: number;
  /** Highest RSS sampled while the handler ran. The embedded S3 emulator holds the whole object in memory, so this includes about fileMb. */
  peakRssMb: number;
  /** RSS just before the handler started (the emulator's copy of the file included). */
  rssBeforeMb: number;
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
 * send. The job's partner is the built-in sandbox unless its URL is set.
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
    const sandboxed = local.sandboxed.length > 0;
    const config = checkedConfig(env, [partner]); // a bad setting fails here, naming it

    embedded = await startEmbeddedS3();
    embedded.createBucket(LOCAL_BUCKET);
    const key = `${job.trigger.prefix}${path.basename(options.file)}`;
    log(`uploading ${path.basename(options.file)} (${(fileBytes / MB).toFixed(1)} MB) to the embedded S3 as s3://${LOCAL_BUCKET}/${key}`);
    const eTag = await uploadFile(embedded, LOCAL_BUCKET, key, options.file);

    const destination = sandboxed ? 'sandbox' : (config.env[partner.sandbox?.urlSetting ?? ''] ?? partner.id);
    log(`running ${job.id} into ${partner.id} (${destination})`);
    let sent: JobProgress = { rows: 0, requests: 0 };
    const deps = createDeps(job.flowId, config, { secrets: EnvSecretStore.fromConfig(config), ...(options.http ? { http: options.http } : {}) });
    const mod = (await import(path.join(projectRoot, job.entry))) as JobModule;
    const handler = mod.build(deps, embedded.s3, {
      onProgress: (p) => {
        sent = p;
        log(`  ${plural(p.rows, 'row')} sent (${plural(p.requests, 'request')})`);
      },
    });

    const rssBefore = process.memoryUsage.rss();
    const sampler = rssSampler();
    const started = performance.now();
    let peakRss = rssBefore;
    const outcomes = await handler(
      s3ObjectCreatedEvent(LOCAL_BUCKET, key, fileBytes, eTag, 'us-east-1', job.id),
      lambdaContext(job.flowId, job.timeoutSeconds, job.memoryMb),
    )
      .catch((error: unknown) => {
        log(`stopped after ${plural(sent.rows, 'row')} sent in ${plural(sent.requests, 'request')}`);
        throw error;
      })
      .finally(() => {
        peakRss = sampler.stop();
      });
    const seconds = (performance.now() - started) / 1000;
    const figures = jobFigures(outcomes, { seconds, fileBytes, peakRss, rssBefore, destination });
    log(
      `imported ${plural(figures.rows, 'row')} in ${plural(figures.requests, 'request')} (${figures.rejected} rejected by ${partner.id}) ` +
        `in ${seconds.toFixed(1)} s, ${Math.round(figures.rowsPerSecond).toLocaleString('en-US')} rows/s; ` +
        `peak RSS ${figures.peakRssMb.toFixed(0)} MB (${figures.rssBeforeMb.toFixed(0)} MB before the import, ` +
        `of which ~${figures.fileMb.toFixed(0)} MB is the file held by the embedded S3)`,
    );
    return figures;
  } finally {
    await embedded?.stop();
    await sandbox?.stop();
  }
}

/** A run's figures from the outcomes of the files it imported, its time, its file and its memory. */
function jobFigures(
  outcomes: readonly { rows: number; requests: number; rejected: number }[],
  run: { seconds: number; fileBytes: number; peakRss: number; rssBefore: number; destination: string },
): JobFigures {
  const rows = outcomes.reduce((n, i) => n + i.rows, 0);
  return {
    rows,
    requests: outcomes.reduce((n, i) => n + i.requests, 0),
    rejected: outcomes.reduce((n, i) => n + i.rejected, 0),
    seconds: run.seconds,
    rowsPerSecond: run.seconds > 0 ? rows / run.seconds : rows,
    fileMb: run.fileBytes / MB,
    peakRssMb: run.peakRss / MB,
    rssBeforeMb: run.rssBefore / MB,
    destination: run.destination,
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
