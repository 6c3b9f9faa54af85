import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EXPORT_COLUMNS, exportRow, writeExportCsv } from '../../bench/support/csv';
import { catalogue } from '../../functions/catalogue';
import { loadConfig } from '../../functions/core/config';
import { createDeps } from '../../functions/core/deps';
import { ConfigError, RetryableDeliveryError } from '../../functions/core/errors';
import { HttpClient } from '../../functions/core/http';
import { EnvSecretStore } from '../../functions/core/secrets';
import { CsvFormatError } from '../../functions/lytics/csv-chunks';
import { build, type ObjectImport } from '../../functions/lytics/csv-import';
import { lambdaContext } from '../../local/lambda-context';
import { type EmbeddedS3, runJob, s3ObjectCreatedEvent, startEmbeddedS3, uploadFile } from '../../local/run-job';
import { LyticsBulkStub } from '../support/lytics-bulk-stub';
import { stopAll } from '../support/teardown';

/** The flow the job's logs, metrics and saved state carry. */
const FLOW_ID = catalogue.job('lytics-csv-import').flowId;

const TOKEN = 'lytics-bulk-token-7f3a';
const BUCKET = 'braze-exports';
/** Big enough that reading it whole shows (~4.3 MB), small enough to run in a second or two anywhere. */
const STREAM_ROWS = 20_000;
const SMALL_ROWS = 2_000;
/**
 * What the stream stages between S3 and the parser may hold beyond the chunk being built: the S3
 * response's buffer, the counting stream's two sides, csv-parse's input and its 16 parsed rows.
 * Each is at most 64 KiB; this allows twice their sum.
 */
const READ_AHEAD_ALLOWANCE = 1024 * 1024;

/**
 * An S3 client that hands out object bodies through a counting stream, so a test can see how far
 * the handler has read into the file at any moment: a streamed import reads a chunk ahead of what
 * it sends, a buffered one reads the whole file before its first request.
 */
function countingS3(s3: S3Client) {
  const opened: { bytesRead: number }[] = [];
  const client = {
    send: async (command: unknown) => {
      const output = (await s3.send(command as GetObjectCommand)) as { Body?: unknown };
      if (!(command instanceof GetObjectCommand) || !(output.Body instanceof Readable)) return output;
      const counter = { bytesRead: 0 };
      opened.push(counter);
      const counted = new PassThrough();
      counted.on('data', (chunk: Buffer) => (counter.bytesRead += chunk.length));
      output.Body.pipe(counted);
      return { ...output, Body: counted };
    },
  } as unknown as S3Client;
  return { client, opened };
}

describe('lytics-csv-import: a Braze segment export in S3 streamed into the Lytics bulk CSV API', () => {
  const lytics = new LyticsBulkStub(STREAM_ROWS, EXPORT_COLUMNS);
  let lyticsUrl: string;
  let local: EmbeddedS3 | undefined;
  let dir = '';
  let streamFileBytes: number;
  let smallFileBytes: number;
  /** Imports this suite started: awaited in afterAll, so none runs on after a failed hook or test. */
  const inFlight = new Set<Promise<unknown>>();

  /** The real handler, built as in Lambda, with a fast retry policy. */
  function handlerWith(rowsPerRequest: number, s3: S3Client = local!.s3, fetchImpl?: typeof fetch) {
    const config = loadConfig({
      LOG_LEVEL: 'SILENT',
      LYTICS_BULK_API_URL: lyticsUrl,
      LYTICS_API_TOKEN: TOKEN,
      LYTICS_CSV_ROWS_PER_REQUEST: String(rowsPerRequest),
    });
    const deps = createDeps(FLOW_ID, config, {
      secrets: EnvSecretStore.fromConfig(config),
      http: new HttpClient({ policy: { retries: 2, baseDelayMs: 5, maxDelayMs: 100, timeoutMs: 5_000 }, fetch: fetchImpl }),
    });
    const handler = build(deps, s3);
    return (...args: Parameters<typeof handler>): Promise<ObjectImport[]> => {
      const run = handler(...args);
      inFlight.add(run);
      void run.then(
        () => inFlight.delete(run),
        () => inFlight.delete(run),
      );
      return run;
    };
  }

  const invoke = (rowsPerRequest: number, key: string, size: number): Promise<ObjectImport[]> =>
    handlerWith(rowsPerRequest)(s3ObjectCreatedEvent(BUCKET, key, size), lambdaContext(FLOW_ID, 900, 1024));

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    dir = await mkdtemp(path.join(tmpdir(), 'lytics-csv-'));
    lyticsUrl = await lytics.start();
    local = await startEmbeddedS3();
    local.createBucket(BUCKET);
    streamFileBytes = await writeExportCsv(path.join(dir, 'stream.csv'), STREAM_ROWS);
    smallFileBytes = await writeExportCsv(path.join(dir, 'small.csv'), SMALL_ROWS);
    await uploadFile(local, BUCKET, 'segment-export/stream.csv', path.join(dir, 'stream.csv'));
    await uploadFile(local, BUCKET, 'segment-export/small.csv', path.join(dir, 'small.csv'));
  });
  afterAll(async () => {
    // The stub goes first, so an import still running (a hook or test that failed) fails fast and ends.
    await stopAll(
      () => lytics.stop(),
      () => Promise.allSettled([...inFlight]),
      () => local?.stop(),
      () => (dir ? rm(dir, { recursive: true, force: true }) : undefined),
    );
  });

  describe(`${STREAM_ROWS.toLocaleString('en-US')} rows, 1,000 per request`, () => {
    let result: ObjectImport[];
    /** For each bulk request: how far into the file (bytes) the import had read when it was sent. */
    const readAtRequest: number[] = [];
    const requestBytes: number[] = [];

    beforeAll(async () => {
      lytics.reset();
      const s3 = countingS3(local!.s3);
      const recordingFetch: typeof fetch = (input, init) => {
        readAtRequest.push(s3.opened.at(-1)?.bytesRead ?? 0);
        requestBytes.push(Buffer.byteLength(String(init?.body ?? '')));
        return fetch(input, init);
      };
      result = await handlerWith(
        1_000,
        s3.client,
        recordingFetch,
      )(s3ObjectCreatedEvent(BUCKET, 'segment-export/stream.csv', streamFileBytes), lambdaContext(FLOW_ID, 900, 1024));
    });

    it('delivers every row exactly once, fields intact', () => {
      expect(result).toEqual([expect.objectContaining({ bucket: BUCKET, key: 'segment-export/stream.csv', rows: STREAM_ROWS, requests: 20, rejected: 0 })]);
      expect(lytics.deliveredRows).toBe(STREAM_ROWS);
      expect(lytics.deliveries.every((count) => count === 1)).toBe(true);
      expect(lytics.unknown).toBe(0);
      expect(lytics.altered).toBe(0);
    });

    it('sends requests of at most 1,000 rows, each starting with the header', () => {
      expect(lytics.attempts).toHaveLength(20);
      expect(Math.max(...lytics.attempts.map((a) => a.rows))).toBe(1_000);
      expect(lytics.attempts.every((a) => a.headerFirst && a.status === 200)).toBe(true);
    });

    it('sends the token in the Authorization header and never in the URL', () => {
      expect(new Set(lytics.attempts.map((a) => a.authorization))).toEqual(new Set([TOKEN]));
      expect(new Set(lytics.attempts.map((a) => a.path))).toEqual(new Set(['/collect/bulk/braze_segment_export']));
      expect(new Set(lytics.attempts.map((a) => a.contentType))).toEqual(new Set(['application/csv']));
    });

    it('never reads more than one chunk ahead of what it has sent (the file is never held whole)', () => {
      // Counted bytes, not heap samples: the same on any machine. Reading the object whole before
      // parsing it would show the whole file (~4.3 MB) read before the first request.
      expect(streamFileBytes).toBeGreaterThan(4_000_000);
      expect(readAtRequest).toHaveLength(20);
      let sentBefore = 0;
      readAtRequest.forEach((read, i) => {
        const aheadOfSent = read - sentBefore;
        expect(aheadOfSent).toBeLessThanOrEqual(requestBytes[i]! + READ_AHEAD_ALLOWANCE);
        sentBefore += requestBytes[i]!;
      });
      expect(readAtRequest[0]).toBeLessThan(streamFileBytes / 2);
    });
  });

  describe('2,000 rows', () => {
    beforeEach(() => lytics.reset());

    it('retries a chunk Lytics answers 503 twice, and still delivers every row exactly once', async () => {
      lytics.answer = (attempt) => (attempt === 1 || attempt === 2 ? 503 : 200);

      const [result] = await invoke(500, 'segment-export/small.csv', smallFileBytes);

      expect(result).toMatchObject({ rows: SMALL_ROWS, requests: 4 });
      expect(lytics.attempts.map((a) => a.status)).toEqual([200, 503, 503, 200, 200, 200]);
      expect(lytics.deliveredRows).toBe(SMALL_ROWS);
      expect(lytics.deliveries.slice(0, SMALL_ROWS).every((count) => count === 1)).toBe(true);
    });

    it('fails the invocation when Lytics answers 500 forever, naming no secret, and sends nothing further', async () => {
      lytics.answer = () => 500;

      const error = await invoke(500, 'segment-export/small.csv', smallFileBytes).then(
        () => undefined,
        (rejection: unknown) => rejection,
      );

      expect(error).toBeInstanceOf(RetryableDeliveryError);
      expect((error as RetryableDeliveryError).message).toBe('lytics bulk csv answered 500');
      expect(JSON.stringify({ ...(error as object), message: (error as Error).message, stack: (error as Error).stack })).not.toContain(TOKEN);
      expect(lytics.attempts).toHaveLength(3); // the first chunk, tried three times; the job stops there
      expect(lytics.deliveredRows).toBe(0);
    });

    it('reads a key holding spaces and a plus sign, as S3 events encode it', async () => {
      const key = 'segment-export/Segment export + VIP 2024.csv';
      await uploadFile(local!, BUCKET, key, path.join(dir, 'small.csv'));

      const event = s3ObjectCreatedEvent(BUCKET, key, smallFileBytes);
      const [result] = await handlerWith(1_000)(event, lambdaContext(FLOW_ID, 900));

      expect(event.Records[0]?.s3.object.key).toBe('segment-export/Segment+export+%2B+VIP+2024.csv');
      expect(result).toMatchObject({ key, rows: SMALL_ROWS, requests: 2 });
    });

    it('refuses a file with a ragged row naming its line, having sent nothing', async () => {
      const rows = Array.from({ length: 30 }, (_, i) =>
        exportRow(i)
          .map((field) => `"${field.replace(/"/g, '""')}"`)
          .join(','),
      );
      rows[24] = 'u-0000024,only,four,fields'; // row 25; rows 0 and 13 hold a quoted newline, so it sits on line 28
      const file = path.join(dir, 'ragged.csv');
      await writeFile(file, `${EXPORT_COLUMNS.join(',')}\n${rows.join('\n')}\n`);
      await uploadFile(local!, BUCKET, 'segment-export/ragged.csv', file);

      const error = await invoke(10, 'segment-export/ragged.csv', 0).then(
        () => undefined,
        (rejection: unknown) => rejection,
      );

      expect(error).toBeInstanceOf(CsvFormatError);
      expect((error as CsvFormatError).message).toBe('line 28: the row has 4 fields where the header has 17');
      expect(lytics.deliveries.every((count) => count === 0)).toBe(true); // the whole file was checked before any chunk went out
    });
  });
  describe('npm run import:lytics (runJob)', () => {
    it('imports a file into the Lytics sandbox when no Lytics URL is set, printing progress and a summary', async () => {
      const lines: string[] = [];

      const figures = await runJob({
        job: 'lytics-csv-import',
        file: path.join(dir, 'small.csv'),
        env: { LYTICS_CSV_ROWS_PER_REQUEST: '500', LYTICS_CSV_STREAM: 'segment_exports' },
        log: (line) => lines.push(line),
      });

      expect(figures).toMatchObject({ rows: SMALL_ROWS, requests: 4, rejected: 0, destination: 'sandbox' });
      expect(figures.peakRssMb).toBeGreaterThan(0);
      expect(lines.filter((line) => line.startsWith('sandbox lytics POST /collect/bulk/segment_exports -> 200'))).toHaveLength(4);
      expect(lines).toContain('  2,000 rows sent (4 requests)');
      expect(lines.at(-1)).toMatch(/^imported 2,000 rows in 4 requests \(0 rejected by lytics\) in [\d.]+ s/);
      expect(lines.join('\n')).not.toContain('@example.com');
    });

    it('runs the handler in a child process of its own when asked (the bench), measuring its memory apart', async () => {
      const lines: string[] = [];

      const figures = await runJob({
        job: 'lytics-csv-import',
        file: path.join(dir, 'small.csv'),
        env: { LYTICS_CSV_ROWS_PER_REQUEST: '500' },
        log: (line) => lines.push(line),
        isolate: true,
      });

      expect(figures).toMatchObject({ rows: SMALL_ROWS, requests: 4, rejected: 0, destination: 'sandbox', isolated: true });
      expect(figures.peakRssMb).toBeGreaterThanOrEqual(figures.rssBeforeMb);
      expect(figures.emulatorsPeakRssMb).toBeGreaterThan(0);
      expect(lines).toContain('  2,000 rows sent (4 requests)');
      expect(lines.at(-1)).toMatch(/^imported 2,000 rows in 4 requests \(0 rejected by lytics\) in [\d.]+ s, .* the job's process peaked at \d+ MB RSS/);
    });

    it('refuses a Lytics URL without a token before uploading anything', async () => {
      const lines: string[] = [];

      const run = runJob({ job: 'lytics-csv-import', file: path.join(dir, 'small.csv'), env: { LYTICS_API_URL: lyticsUrl }, log: (line) => lines.push(line) });

      await expect(run).rejects.toThrow(new ConfigError('LYTICS_API_URL is set, so LYTICS_API_TOKEN must be set too'));
      expect(lines).toEqual([]);
    });
  });
});
