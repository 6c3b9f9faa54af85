import { pipeline, Readable } from 'node:stream';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context, S3Event } from 'aws-lambda';
import { CsvError, type Info, parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import * as z from 'zod/mini';
import { type Deps, lazyHandler, settingsOf } from '../core/deps';
import { BridgeError, ConfigError, ValidationError } from '../core/errors';
import { joinUrl } from '../core/http';
import { MetricName, MetricUnit } from '../core/observability';
import { requireSecret } from '../core/secrets';
import { lyticsJobs } from './catalogue';
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
/** A row longer than this is refused: an unclosed quote would otherwise swallow the rest of the file. */
export const DEFAULT_MAX_ROW_CHARS = 1_000_000;

export interface CsvImportProgress {
  /** Data rows delivered so far (the header excluded). */
  rows: number;
  /** Requests that succeeded so far. */
  requests: number;
}

export interface CsvImportOptions {
  /**
   * Delivers one chunk: the header row followed by `rows` data rows, as CSV. Awaited before
   * more of the source is read, so at most one chunk is in memory and in flight.
   */
  send: (csvChunk: string, rows: number, index: number) => Promise<void>;
  /** Data rows per chunk (each chunk repeats the header). */
  rowsPerRequest: number;
  /** The header must name at least one of these (case-insensitive); none checked when empty. */
  identityColumns?: readonly string[];
  maxRowChars?: number;
  /** Called after every delivered chunk, with running totals. */
  onProgress?: (progress: CsvImportProgress) => void;
}

/**
 * The file is not CSV we can import. Names the physical line (quoted newlines counted, as an
 * editor shows them) and never a value: rows are PII. Chunks before the faulty one may already
 * have been delivered (`rowsSent`); the chunk holding the faulty line never is.
 */
export class CsvFormatError extends ValidationError {
  constructor(
    readonly line: number,
    problem: string,
    readonly rowsSent: number,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

/**
 * Streams a CSV with a header row from `source` to `send`, in chunks of at most `rowsPerRequest`
 * data rows, each re-emitted with the header. Parsing (csv-parse) handles quotes, embedded commas
 * and newlines, CRLF and a BOM; the file is never held whole: reading pauses while a chunk is sent.
 * An empty file, or one holding only a header, sends nothing.
 */
export async function importCsv(source: Readable, options: CsvImportOptions): Promise<CsvImportProgress> {
  const { rowsPerRequest, send } = options;
  if (!Number.isInteger(rowsPerRequest) || rowsPerRequest < 1) {
    throw new RangeError(`rowsPerRequest must be a positive integer, got ${rowsPerRequest}`);
  }
  const maxRowChars = options.maxRowChars ?? DEFAULT_MAX_ROW_CHARS;
  const parser = parse({ bom: true, skip_empty_lines: true, info: true, max_record_size: maxRowChars });
  // pipeline destroys both streams when either fails or when iteration stops early; errors
  // surface through the iterator below.
  pipeline(source, parser, () => undefined);

  const progress: CsvImportProgress = { rows: 0, requests: 0 };
  let header: string[] | undefined;
  // Rows are re-emitted as CSV (csv-stringify quotes what needs quoting) into one byte buffer as
  // they arrive: a pending chunk costs its bytes, not thousands of parsed fields and string ropes.
  const pending = new TextBuilder();
  let pendingRows = 0;

  const flush = async () => {
    const rows = pendingRows;
    const csvChunk = pending.take();
    pendingRows = 0;
    await send(csvChunk, rows, progress.requests);
    progress.rows += rows;
    progress.requests += 1;
    options.onProgress?.({ ...progress });
  };

  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      if (!header) {
        header = checkedHeader(record, info.lines, options.identityColumns ?? []);
        continue;
      }
      if (pendingRows === 0) pending.append(stringify([header]));
      pending.append(stringify([record]));
      pendingRows++;
      if (pendingRows >= rowsPerRequest) await flush();
    }
  } catch (error) {
    if (error instanceof CsvError) throw formatError(error, header, progress.rows, maxRowChars);
    throw error;
  }
  if (pendingRows > 0) await flush();
  return progress;
}

/**
 * UTF-8 text appended into one buffer, taken out as one string. The buffer is let go on `take`
 * (so it is not held while the chunk is sent) and the next one is sized from the last chunk.
 */
class TextBuilder {
  private buffer?: Buffer;
  private used = 0;
  private sizeHint = 64 * 1024;

  append(text: string): void {
    const needed = this.used + Buffer.byteLength(text);
    this.buffer ??= Buffer.allocUnsafe(Math.max(needed, this.sizeHint));
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    this.used += this.buffer.write(text, this.used);
  }

  take(): string {
    const text = this.buffer?.toString('utf8', 0, this.used) ?? '';
    this.sizeHint = Math.ceil(this.used * 1.1);
    this.buffer = undefined;
    this.used = 0;
    return text;
  }
}

function checkedHeader(record: string[], line: number, identityColumns: readonly string[]): string[] {
  const names = record.map((name) => name.trim());
  const blank = names.indexOf('');
  if (blank >= 0) throw new CsvFormatError(line, `the header row has an empty column name (column ${blank + 1})`, 0);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new CsvFormatError(line, 'the header row names a column twice', 0);
  if (identityColumns.length > 0) {
    const normalise = (name: string) => name.toLowerCase().replace(/\s+/g, '_');
    const wanted = new Set(identityColumns.map(normalise));
    if (!names.some((name) => wanted.has(normalise(name)))) {
      throw new CsvFormatError(
        line,
        `no header row: the first row names none of the identity columns (${identityColumns.join(', ')}); a Braze segment export starts with its column names`,
        0,
      );
    }
  }
  return record;
}

/** csv-parse's messages quote the faulty value (PII): rebuilt here from its code and position only. */
function formatError(error: CsvError, header: string[] | undefined, rowsSent: number, maxRowChars: number): CsvFormatError {
  const line = typeof error.lines === 'number' ? error.lines : 0;
  const field = typeof error.column === 'number' ? ` (field ${error.column + 1})` : '';
  // The header may not have reached us yet when the parser fails in the same buffer: its message
  // carries both counts ("expect 6, got 4 on line 7") and nothing else.
  const counts = /expect (\d+), got (\d+)/.exec(error.message);
  const expected = counts?.[1] ?? String(header?.length ?? '?');
  const got = counts?.[2] ?? '?';
  const problems: Partial<Record<string, string>> = {
    CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: `the row has ${got} field${got === '1' ? '' : 's'} where the header has ${expected}`,
    CSV_QUOTE_NOT_CLOSED: 'the file ends inside a quoted field (a quote is never closed)',
    INVALID_OPENING_QUOTE: `a quote inside an unquoted field${field}`,
    INVALID_CLOSING_QUOTE: `characters after a closing quote${field}`,
    CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: `characters after a closing quote${field}`,
    CSV_MAX_RECORD_SIZE: `a row longer than ${maxRowChars} characters (an unclosed quote?)`,
  };
  return new CsvFormatError(line, problems[error.code] ?? `malformed CSV (${error.code})`, rowsSent);
}

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
}

export interface CsvImportHooks {
  /** Called after each delivered chunk (the local CLI prints it; Lambda logs it either way). */
  onProgress?: (progress: CsvImportProgress & { bucket: string; key: string }) => void;
}

/**
 * S3 `ObjectCreated` -> Lytics bulk CSV API. Each object is streamed from S3 through importCsv and
 * POSTed to `{LYTICS_BULK_API_URL}/collect/bulk/{LYTICS_CSV_STREAM}` in chunks of
 * LYTICS_CSV_ROWS_PER_REQUEST rows, the token in the Authorization header, after a first pass has
 * checked the whole file (a malformed file sends nothing). HttpClient retries a chunk on 429/5xx;
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
    const open = async () => {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!(object.Body instanceof Readable)) throw new BridgeError(`s3://${bucket}/${key} has no readable body`);
      return { body: object.Body, bytes: object.ContentLength };
    };

    // First pass: parse the whole file and send nothing, so a malformed file is refused before
    // a single row reaches Lytics (and Lambda's retries of it cannot re-send anything either).
    // Streaming it twice costs a second read of S3 and about a second per 60,000 rows.
    const checked = await open();
    try {
      await importCsv(checked.body, { rowsPerRequest, identityColumns: BRAZE_IDENTITY_COLUMNS, send: async () => undefined });
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

    const object = await open();
    logger.info('csv import started', { bucket, key, bytes: object.bytes, stream: settings.LYTICS_CSV_STREAM, rowsPerRequest });

    const sent = { rows: 0, requests: 0, rejected: 0 };
    try {
      const result = await importCsv(object.body, {
        rowsPerRequest,
        identityColumns: BRAZE_IDENTITY_COLUMNS,
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
      logger.info('csv import finished', { bucket, key, ...result, rejected: sent.rejected, seconds });
      return { bucket, key, ...result, rejected: sent.rejected, seconds };
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
