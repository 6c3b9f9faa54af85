import { Readable } from 'node:stream';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context, S3Event } from 'aws-lambda';
import * as z from 'zod/mini';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { BridgeError, ConfigError, ValidationError } from '../core/errors';
import { joinUrl } from '../core/http';
import { MetricName, MetricUnit } from '../core/observability';
import { requireSecret } from '../core/secrets';
import { lyticsJobs } from './catalogue';
import { type CsvImportProgress, type CsvPlan, checkCsv, sendPlannedCsv } from './csv-chunks';
import { lyticsSettings } from './settings';

/** Time kept back from the Lambda timeout so a failure is logged before the runtime is cut off. */
const SAFETY_MARGIN_MS = 10_000;

/**
 * Columns that identify a user in a Braze segment export (API names and the dashboard's
 * "Braze ID" / "Appboy ID" / "user_id" spellings, compared case-insensitively with spaces as
 * underscores). Lytics merges rows into profiles on these; a first row naming none of them is
 * data, not a header.
 */
export const BRAZE_IDENTITY_COLUMNS: readonly string[] = ['external_id', 'user_id', 'braze_id', 'appboy_id', 'email'];

// ----- the job Lambda -----------------------------------------------------------------------

const s3EventSchema = z.object({
  Records: z.array(
    z.object({
      s3: z.object({
        bucket: z.object({ name: z.string().check(z.minLength(1)) }),
        object: z.object({ key: z.string().check(z.minLength(1)), size: z.optional(z.number()) }),
      }),
    }),
  ),
});

/** S3 event keys are URL-encoded with `+` for spaces (`imports/my+file.csv`). */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/** What a successful answer of the bulk API says; anything else in it is ignored. */
const bulkAnswerSchema = z.object({
  data: z.optional(z.object({ message_count: z.optional(z.number()), rejected_count: z.optional(z.number()) })),
});

export interface ObjectImport extends CsvImportProgress {
  bucket: string;
  key: string;
  /** Rows Lytics said it rejected (from its answers' `rejected_count`). */
  rejected: number;
  seconds: number;
  /** Of `seconds`, the first pass: reading and parsing the whole file before anything is sent. */
  checkSeconds: number;
}

export interface CsvImportHooks {
  /** Called after each delivered chunk (the local CLI prints it; Lambda logs it either way). */
  onProgress?: (progress: CsvImportProgress & { bucket: string; key: string }) => void;
}

/**
 * S3 `ObjectCreated` -> Lytics bulk CSV API. Each object is streamed from S3 twice: checkCsv parses
 * it whole and plans its chunks of LYTICS_CSV_ROWS_PER_REQUEST rows (a malformed file sends
 * nothing), then sendPlannedCsv cuts those chunks from a second read and POSTs them, one at a time,
 * to `{LYTICS_BULK_API_URL}/collect/bulk/{LYTICS_CSV_STREAM}`, the token in the Authorization header. HttpClient retries a chunk on 429/5xx;
 * a chunk that keeps failing, or a malformed file, fails the invocation so
 * Lambda's async retries and on-failure destination take over (a retry re-sends the file from the
 * start: Lytics merges rows into profiles by identity, so a re-sent row sets the same values again).
 */
export function build(deps: Deps, s3: S3Client = new S3Client({}), hooks: CsvImportHooks = {}) {
  const { logger, metrics } = deps;
  const settings = settingsOf(deps, lyticsSettings);
  const base = settings.LYTICS_BULK_API_URL ?? settings.LYTICS_API_URL;
  if (!base) throw new ConfigError('LYTICS_BULK_API_URL (or LYTICS_API_URL) is not set');
  const url = joinUrl(base, `collect/bulk/${encodeURIComponent(settings.LYTICS_CSV_STREAM)}`);
  const rowsPerRequest = settings.LYTICS_CSV_ROWS_PER_REQUEST;

  async function importObject(bucket: string, key: string, deadline: number): Promise<ObjectImport> {
    const token = await requireSecret(deps.secrets, 'lytics', 'api_token');
    const started = deps.clock.now();
    const open = async (checked?: { eTag?: string; bytes?: number }) => {
      // The second read asks for the object that was checked (If-Match its ETag): the plan's offsets hold for it alone.
      const input = { Bucket: bucket, Key: key, ...(checked?.eTag ? { IfMatch: checked.eTag } : {}) };
      const object = await s3.send(new GetObjectCommand(input));
      if (!(object.Body instanceof Readable)) throw new BridgeError(`s3://${bucket}/${key} has no readable body`);
      if (checked?.bytes !== undefined && object.ContentLength !== undefined && object.ContentLength !== checked.bytes) {
        object.Body.destroy();
        throw new BridgeError(`s3://${bucket}/${key} changed after it was checked (${checked.bytes} bytes, now ${object.ContentLength})`);
      }
      return { body: object.Body, bytes: object.ContentLength, eTag: object.ETag };
    };

    // First pass: parse the whole file and send nothing, so a malformed file is refused before
    // a single row reaches Lytics (and Lambda's retries of it cannot re-send anything either).
    // It is the only parse: it notes where each chunk's rows lie, and the second read cuts the
    // chunks at those offsets, costing a second read of S3 and no second parse.
    const checked = await open();
    let plan: CsvPlan;
    try {
      plan = await checkCsv(checked.body, { rowsPerRequest, identityColumns: BRAZE_IDENTITY_COLUMNS });
    } catch (error) {
      metrics.addMetric(MetricName.RecordsRejected, MetricUnit.Count, 1);
      logger.error('csv import refused: malformed file, nothing sent', {
        bucket,
        key,
        errorName: error instanceof Error ? error.name : 'unknown',
        reason: error instanceof BridgeError ? error.message : undefined,
      });
      throw error;
    }
    const checkSeconds = (deps.clock.now() - started) / 1000;
    logger.info('csv import started', { bucket, key, bytes: checked.bytes, stream: settings.LYTICS_CSV_STREAM, rowsPerRequest, checkSeconds });

    const sent = { rows: 0, requests: 0, rejected: 0 };
    try {
      const object = await open(checked);
      const result = await sendPlannedCsv(object.body, plan, {
        send: async (csvChunk, rows, index) => {
          const response = await deps.http.send(
            { method: 'POST', url, headers: { authorization: token, 'content-type': 'application/csv' }, body: csvChunk },
            { label: 'lytics bulk csv', deadline },
          );
          sent.rows += rows;
          sent.requests += 1;
          const rejected = rejectedCount(response.text);
          if (rejected > 0) {
            sent.rejected += rejected;
            logger.warn('lytics rejected rows', { bucket, key, chunk: index, rows, rejected });
          }
        },
        onProgress: (progress) => {
          logger.info('csv import progress', { bucket, key, ...progress });
          hooks.onProgress?.({ bucket, key, ...progress });
        },
      });
      const seconds = (deps.clock.now() - started) / 1000;
      logger.info('csv import finished', { bucket, key, ...result, rejected: sent.rejected, seconds, checkSeconds });
      return { bucket, key, ...result, rejected: sent.rejected, seconds, checkSeconds };
    } catch (error) {
      metrics.addMetric(MetricName.DeliveryFailures, MetricUnit.Count, 1);
      logger.error('csv import failed', {
        bucket,
        key,
        rowsDelivered: sent.rows,
        requests: sent.requests,
        errorName: error instanceof Error ? error.name : 'unknown',
        // Our own messages name a line, a status or a setting; never a value or the token.
        reason: error instanceof BridgeError ? error.message : undefined,
      });
      throw error;
    } finally {
      metrics.addMetric(MetricName.DownstreamCalls, MetricUnit.Count, sent.requests);
      metrics.addMetric(MetricName.RecordsDelivered, MetricUnit.Count, sent.rows);
      if (sent.rejected > 0) metrics.addMetric(MetricName.RecordsRejected, MetricUnit.Count, sent.rejected);
    }
  }

  const run = async (event: S3Event, context: Context): Promise<ObjectImport[]> => {
    const parsed = z.safeParse(s3EventSchema, event);
    if (!parsed.success) throw new ValidationError('not an S3 event: Records[].s3.bucket.name and .object.key are required');
    const deadline = deps.clock.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
    const imports: ObjectImport[] = [];
    for (const record of parsed.data.Records) {
      imports.push(await importObject(record.s3.bucket.name, decodeS3Key(record.s3.object.key), deadline));
    }
    return imports;
  };

  return middy<S3Event, ObjectImport[]>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(run);
}

function rejectedCount(text: string): number {
  try {
    const answer = z.safeParse(bulkAnswerSchema, JSON.parse(text));
    return answer.success ? (answer.data.data?.rejected_count ?? 0) : 0;
  } catch {
    return 0;
  }
}

export const handler = lazyHandler(lyticsJobs, (deps) => build(deps));
