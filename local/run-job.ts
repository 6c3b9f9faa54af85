import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Event } from 'aws-lambda';
import { startFauxqs } from 'fauxqs';
import { jobs } from '../functions/catalogue';
import { loadConfig } from '../functions/core/config';
import { createDeps } from '../functions/core/deps';
import { ConfigError } from '../functions/core/errors';
import type { HttpClient } from '../functions/core/http';
import { EnvSecretStore } from '../functions/core/secrets';
import { build, FLOW_ID } from '../functions/lytics/csv-import';
import { lambdaContext } from './lambda-context';
import { Sandbox } from './sandbox';

/** The job as the catalogue (and so the CDK app) defines it: its upload prefix, timeout and memory. */
function catalogueJob() {
  const found = jobs.find((candidate) => candidate.id === FLOW_ID);
  if (!found) throw new Error(`the catalogue has no ${FLOW_ID} job`);
  return found;
}
const job = catalogueJob();
/** The local stand-in for the imports bucket; uploads go under the job's prefix, as in AWS. */
export const LOCAL_BUCKET = 'bpb-imports';
export const IMPORT_PREFIX = job.trigger.prefix;
const MB = 1024 * 1024;
const plural = (count: number, noun: string) => `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;

export interface CsvImportRunOptions {
  /** The CSV to import (a Braze segment export). */
  file: string;
  /** SPEC section 5 variables (LYTICS_API_URL, LYTICS_API_TOKEN ...) plus LYTICS_CSV_*; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Where the readable lines go. */
  log?: (line: string) => void;
  /** Test knob: the HTTP client (e.g. a fast retry policy). */
  http?: HttpClient;
}

export interface CsvImportFigures {
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
  /** Where the rows went: `sandbox` or the Lytics base URL. */
  destination: string;
  stream: string;
}

/** An S3 `ObjectCreated:Put` event as AWS delivers it to Lambda: the key URL-encoded, `+` for spaces. */
export function s3ObjectCreatedEvent(bucket: string, key: string, size: number, eTag = '', region = 'us-east-1'): S3Event {
  const encodedKey = key.split('/').map((part) => encodeURIComponent(part).replace(/%20/g, '+')).join('/');
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
          configurationId: 'lytics-csv-import',
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
function rssSampler(intervalMs = 20) {
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
 * `npm run import:lytics -- export.csv`, as a library: an embedded S3 (fauxqs), the file uploaded
 * to it as a stream, then the Lambda handler invoked with the S3 event AWS would send. Lytics is
 * the built-in sandbox unless LYTICS_API_URL / LYTICS_BULK_API_URL is set.
 */
export async function runCsvImport(options: CsvImportRunOptions): Promise<CsvImportFigures> {
  const env = { ...(options.env ?? process.env) };
  const log = options.log ?? ((line: string) => console.log(line));
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // EMF lines belong in CloudWatch, not on a terminal
  env.LOG_LEVEL ??= 'SILENT'; // progress and failures are printed below; LOG_LEVEL=INFO shows the Lambda's JSON logs too

  const fileBytes = (await stat(options.file)).size;
  let sandbox: Sandbox | undefined;
  let embedded: EmbeddedS3 | undefined;
  try {
    if (!env.LYTICS_API_URL && !env.LYTICS_BULK_API_URL) {
      sandbox = new Sandbox(log);
      await sandbox.start();
      env.LYTICS_API_URL = sandbox.url('lytics');
      env.LYTICS_API_TOKEN ??= 'sandbox-lytics-token';
    } else if (!env.LYTICS_API_TOKEN) {
      throw new ConfigError('LYTICS_API_URL (or LYTICS_BULK_API_URL) is set, so LYTICS_API_TOKEN must be set too');
    }
    const config = loadConfig(env);

    embedded = await startEmbeddedS3();
    embedded.createBucket(LOCAL_BUCKET);
    const key = `${IMPORT_PREFIX}${path.basename(options.file)}`;
    log(`uploading ${path.basename(options.file)} (${(fileBytes / MB).toFixed(1)} MB) to the embedded S3 as s3://${LOCAL_BUCKET}/${key}`);
    const eTag = await uploadFile(embedded, LOCAL_BUCKET, key, options.file);

    const destination = sandbox ? 'sandbox' : (config.LYTICS_BULK_API_URL ?? config.LYTICS_API_URL ?? '');
    log(`importing into Lytics stream ${config.LYTICS_CSV_STREAM} (${destination}), ${plural(config.LYTICS_CSV_ROWS_PER_REQUEST, 'row')} per request`);
    let sent = { rows: 0, requests: 0 };
    const deps = createDeps(FLOW_ID, config, { secrets: EnvSecretStore.fromConfig(config), ...(options.http ? { http: options.http } : {}) });
    const handler = build(deps, embedded.s3, {
      onProgress: (p) => {
        sent = p;
        log(`  ${plural(p.rows, 'row')} sent (${plural(p.requests, 'request')})`);
      },
    });

    const rssBefore = process.memoryUsage.rss();
    const sampler = rssSampler();
    const started = performance.now();
    let peakRss = rssBefore;
    const imports = await handler(s3ObjectCreatedEvent(LOCAL_BUCKET, key, fileBytes, eTag), lambdaContext(FLOW_ID, job.timeoutSeconds, job.memoryMb))
      .catch((error: unknown) => {
        log(`stopped after ${plural(sent.rows, 'row')} sent in ${plural(sent.requests, 'request')}`);
        throw error;
      })
      .finally(() => {
        peakRss = sampler.stop();
      });
    const seconds = (performance.now() - started) / 1000;
    const rows = imports.reduce((n, i) => n + i.rows, 0);
    const figures: CsvImportFigures = {
      rows,
      requests: imports.reduce((n, i) => n + i.requests, 0),
      rejected: imports.reduce((n, i) => n + i.rejected, 0),
      seconds,
      rowsPerSecond: seconds > 0 ? rows / seconds : rows,
      fileMb: fileBytes / MB,
      peakRssMb: peakRss / MB,
      rssBeforeMb: rssBefore / MB,
      destination,
      stream: config.LYTICS_CSV_STREAM,
    };
    log(
      `imported ${plural(figures.rows, 'row')} in ${plural(figures.requests, 'request')} (${figures.rejected} rejected by Lytics) ` +
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

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      stream: { type: 'string' },
      'rows-per-request': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const file = positionals[0];
  if (values.help || !file || positionals.length > 1) {
    console.log('usage: npm run import:lytics -- <export.csv> [--stream <lytics stream>] [--rows-per-request <n>]');
    console.log('Lytics: the built-in sandbox unless LYTICS_API_URL (or LYTICS_BULK_API_URL) and LYTICS_API_TOKEN are set.');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const env = { ...process.env };
  if (values.stream !== undefined) env.LYTICS_CSV_STREAM = values.stream;
  const rowsPerRequest = values['rows-per-request'];
  if (rowsPerRequest !== undefined) {
    if (!/^[1-9]\d*$/.test(rowsPerRequest)) throw new RangeError(`--rows-per-request must be a positive integer, got ${rowsPerRequest}`);
    env.LYTICS_CSV_ROWS_PER_REQUEST = rowsPerRequest;
  }
  await runCsvImport({ file, env });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    // One line, no stack: our messages name a line, a status or a setting, never a value or a token.
    console.error(`import failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
