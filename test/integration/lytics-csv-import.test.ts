import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../../functions/core/config';
import { createDeps } from '../../functions/core/deps';
import { ConfigError, RetryableDeliveryError } from '../../functions/core/errors';
import { HttpClient } from '../../functions/core/http';
import { EnvSecretStore } from '../../functions/core/secrets';
import { build, CsvFormatError, FLOW_ID, type ObjectImport } from '../../functions/lytics/csv-import';
import { type EmbeddedS3, runCsvImport, s3ObjectCreatedEvent, startEmbeddedS3, uploadFile } from '../../local/import-csv';
import { lambdaContext } from '../../local/lambda-context';
import { EXPORT_COLUMNS, exportRow, writeExportCsv } from '../support/csv';
import { LyticsBulkStub } from '../support/lytics-bulk-stub';

// A full GC on demand, so the memory samples below measure what is live, not garbage V8 has yet to collect.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** What is live right now: JS heap plus Buffers, after a full GC. */
function liveBytes(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const TOKEN = 'lytics-bulk-token-7f3a';
const BUCKET = 'braze-exports';
const BIG_ROWS = 100_000;
const SMALL_ROWS = 2_000;

/**
 * Samples live memory every `intervalMs` until stopped, and returns the peak growth in bytes over
 * the lower of the readings taken before and after: what the run held at its worst, even if
 * something from earlier setup was let go meanwhile.
 */
function liveMemoryGrowth(intervalMs = 100) {
  const before = liveBytes();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, liveBytes());
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peak - Math.min(before, liveBytes());
    },
  };
}

/** Waits until live memory stops falling (connections closed after the uploads let go of their buffers). */
async function memorySettles(toleranceBytes = 512 * 1024, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  let previous = liveBytes();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = liveBytes();
    if (previous - current < toleranceBytes || Date.now() > deadline) return;
    previous = current;
  }
}

describe('lytics-csv-import: a Braze segment export in S3 streamed into the Lytics bulk CSV API', () => {
  const lytics = new LyticsBulkStub(BIG_ROWS, EXPORT_COLUMNS);
  let lyticsUrl: string;
  let local: EmbeddedS3;
  let dir: string;
  let bigFileBytes: number;
  let smallFileBytes: number;

  /** The real handler, built as in Lambda, with a fast retry policy. */
  function handlerWith(rowsPerRequest: number) {
    const config = loadConfig({ LOG_LEVEL: 'SILENT', LYTICS_BULK_API_URL: lyticsUrl, LYTICS_API_TOKEN: TOKEN, LYTICS_CSV_ROWS_PER_REQUEST: String(rowsPerRequest) });
    const deps = createDeps(FLOW_ID, config, {
      secrets: EnvSecretStore.fromConfig(config),
      http: new HttpClient({ policy: { retries: 2, baseDelayMs: 5, maxDelayMs: 100, timeoutMs: 5_000 } }),
    });
    return build(deps, local.s3);
  }

  const invoke = (rowsPerRequest: number, key: string, size: number): Promise<ObjectImport[]> =>
    handlerWith(rowsPerRequest)(s3ObjectCreatedEvent(BUCKET, key, size), lambdaContext(FLOW_ID, 900, 1024));

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    dir = await mkdtemp(path.join(tmpdir(), 'lytics-csv-'));
    lyticsUrl = await lytics.start();
    local = await startEmbeddedS3();
    local.createBucket(BUCKET);
    bigFileBytes = await writeExportCsv(path.join(dir, 'big.csv'), BIG_ROWS);
    smallFileBytes = await writeExportCsv(path.join(dir, 'small.csv'), SMALL_ROWS);
    await uploadFile(local, BUCKET, 'segment-export/big.csv', path.join(dir, 'big.csv'));
    await uploadFile(local, BUCKET, 'segment-export/small.csv', path.join(dir, 'small.csv'));
  });
  afterAll(async () => {
    await local?.stop();
    await lytics.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('100,000 rows, 5,000 per request', () => {
    let result: ObjectImport[];
    let liveGrowth: number;

    beforeAll(async () => {
      await invoke(500, 'segment-export/small.csv', smallFileBytes); // warm-up: modules and connections in place before measuring
      lytics.reset();
      await memorySettles();
      const sampler = liveMemoryGrowth();
      result = await invoke(5_000, 'segment-export/big.csv', bigFileBytes);
      liveGrowth = sampler.stop();
    });

    it('delivers every row exactly once, fields intact', () => {
      expect(result).toEqual([expect.objectContaining({ bucket: BUCKET, key: 'segment-export/big.csv', rows: BIG_ROWS, requests: 20, rejected: 0 })]);
      expect(lytics.deliveredRows).toBe(BIG_ROWS);
      expect(lytics.deliveries.every((count) => count === 1)).toBe(true);
      expect(lytics.unknown).toBe(0);
      expect(lytics.altered).toBe(0);
    });

    it('sends requests of at most 5,000 rows, each starting with the header', () => {
      expect(lytics.attempts).toHaveLength(20);
      expect(Math.max(...lytics.attempts.map((a) => a.rows))).toBe(5_000);
      expect(lytics.attempts.every((a) => a.headerFirst && a.status === 200)).toBe(true);
    });

    it('sends the token in the Authorization header and never in the URL', () => {
      expect(new Set(lytics.attempts.map((a) => a.authorization))).toEqual(new Set([TOKEN]));
      expect(new Set(lytics.attempts.map((a) => a.path))).toEqual(new Set(['/collect/bulk/braze_segment_export']));
      expect(new Set(lytics.attempts.map((a) => a.contentType))).toEqual(new Set(['application/csv']));
    });

    it('keeps live memory growth under half the file size (the file is never held whole)', () => {
      // The file: 100,000 rows of 17 columns, ~20 MB. Held at once: one 5,000-row chunk (~1.1 MB)
      // a few times over (being built, as the request body, as fetch's encoded copy) plus stream
      // and socket buffers: ~5.5 MB measured. Reading the object whole before parsing it measured
      // ~100 MB here, so a regression fails this by far; the margin absorbs GC and socket timing.
      expect(bigFileBytes).toBeGreaterThan(18_000_000);
      expect(liveGrowth).toBeLessThan(bigFileBytes / 2);
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
      await uploadFile(local, BUCKET, key, path.join(dir, 'small.csv'));

      const event = s3ObjectCreatedEvent(BUCKET, key, smallFileBytes);
      const [result] = await handlerWith(1_000)(event, lambdaContext(FLOW_ID, 900));

      expect(event.Records[0]?.s3.object.key).toBe('segment-export/Segment+export+%2B+VIP+2024.csv');
      expect(result).toMatchObject({ key, rows: SMALL_ROWS, requests: 2 });
    });

    it('refuses a file with a ragged row naming its line, having sent nothing', async () => {
      const rows = Array.from({ length: 30 }, (_, i) => exportRow(i).map((field) => `"${field.replace(/"/g, '""')}"`).join(','));
      rows[24] = 'u-0000024,only,four,fields'; // row 25; rows 0 and 13 hold a quoted newline, so it sits on line 28
      const file = path.join(dir, 'ragged.csv');
      await writeFile(file, `${EXPORT_COLUMNS.join(',')}\n${rows.join('\n')}\n`);
      await uploadFile(local, BUCKET, 'segment-export/ragged.csv', file);

      const error = await invoke(10, 'segment-export/ragged.csv', 0).then(
        () => undefined,
        (rejection: unknown) => rejection,
      );

      expect(error).toBeInstanceOf(CsvFormatError);
      expect((error as CsvFormatError).message).toBe('line 28: the row has 4 fields where the header has 17');
      expect(lytics.deliveries.every((count) => count === 0)).toBe(true); // the whole file was checked before any chunk went out
    });
  });
  describe('npm run import:lytics (runCsvImport)', () => {
    it('imports a file into the Lytics sandbox when no Lytics URL is set, printing progress and a summary', async () => {
      const lines: string[] = [];

      const figures = await runCsvImport({
        file: path.join(dir, 'small.csv'),
        env: { LYTICS_CSV_ROWS_PER_REQUEST: '500', LYTICS_CSV_STREAM: 'segment_exports' },
        log: (line) => lines.push(line),
      });

      expect(figures).toMatchObject({ rows: SMALL_ROWS, requests: 4, rejected: 0, destination: 'sandbox', stream: 'segment_exports' });
      expect(figures.peakRssMb).toBeGreaterThan(0);
      expect(lines.filter((line) => line.startsWith('sandbox lytics POST /collect/bulk/segment_exports -> 200'))).toHaveLength(4);
      expect(lines).toContain('  2,000 rows sent (4 requests)');
      expect(lines.at(-1)).toMatch(/^imported 2,000 rows in 4 requests \(0 rejected by Lytics\) in [\d.]+ s/);
      expect(lines.join('\n')).not.toContain('@example.com');
    });

    it('refuses a Lytics URL without a token before uploading anything', async () => {
      const lines: string[] = [];

      const run = runCsvImport({ file: path.join(dir, 'small.csv'), env: { LYTICS_API_URL: lyticsUrl }, log: (line) => lines.push(line) });

      await expect(run).rejects.toThrow(new ConfigError('LYTICS_API_URL (or LYTICS_BULK_API_URL) is set, so LYTICS_API_TOKEN must be set too'));
      expect(lines).toEqual([]);
    });
  });
});
