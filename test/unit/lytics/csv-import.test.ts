import { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import type { Context, S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'csv-parse/sync';
import { loadConfig } from '../../../functions/core/config';
import { createDeps } from '../../../functions/core/deps';
import { BridgeError, ConfigError, RetryableDeliveryError } from '../../../functions/core/errors';
import { HttpClient } from '../../../functions/core/http';
import { EnvSecretStore } from '../../../functions/core/secrets';
import { CsvFormatError, type CsvImportOptions, checkCsv, importCsv, sendPlannedCsv } from '../../../functions/lytics/csv-chunks';
import { build, decodeS3Key } from '../../../functions/lytics/csv-import';
import { lambdaContext } from '../../../local/lambda-context';
import { s3ObjectCreatedEvent } from '../../../local/run-job';
import { FakeClock, rejectionOf, reply, scriptedFetch } from '../helpers';

const HEADER = ['external_id', 'braze_id', 'first_name', 'last_name', 'email', 'city'];

/** A data row as a Braze export holds it. */
const row = (i: number) => [`u-${i}`, `b${i}`, `Ada${i}`, `Lovelace${i}`, `ada${i}@example.com`, 'Paris'];
const csvLine = (fields: string[]) => `${fields.join(',')}\n`;
const csvOf = (rows: string[][]) => csvLine(HEADER) + rows.map(csvLine).join('');

/** Feeds `text` in small pieces, so records straddle the stream's chunks as they do from S3. */
function streamOf(text: string, pieceBytes = 7): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += pieceBytes) pieces.push(bytes.subarray(i, i + pieceBytes));
  return Readable.from(pieces);
}

interface SentChunk {
  csv: string;
  rows: number;
  index: number;
}

/** Runs importCsv, keeping every chunk it sends. */
async function importAll(text: string | Readable, options: Partial<CsvImportOptions> = {}) {
  const sent: SentChunk[] = [];
  const result = await importCsv(typeof text === 'string' ? streamOf(text) : text, {
    rowsPerRequest: 3,
    send: async (csv, rows, index) => {
      sent.push({ csv, rows, index });
    },
    ...options,
  });
  return { result, sent };
}

/** Runs importCsv, which must fail with a CsvFormatError; returns the error and what was sent before it. */
async function failedImport(text: string, options: Partial<CsvImportOptions> = {}) {
  const sent: SentChunk[] = [];
  const error = await rejectionOf(
    CsvFormatError,
    importCsv(streamOf(text), {
      rowsPerRequest: 3,
      send: async (csv, rows, index) => {
        sent.push({ csv, rows, index });
      },
      ...options,
    }),
  );
  return { error, sent };
}

const records = (csv: string): string[][] => parse(csv) as string[][];

describe('importCsv: chunking', () => {
  it('sends nothing for an empty file', async () => {
    const { result, sent } = await importAll('');

    expect(result).toEqual({ rows: 0, requests: 0 });
    expect(sent).toEqual([]);
  });

  it('sends nothing for a file holding only the header', async () => {
    const { result, sent } = await importAll(csvLine(HEADER));

    expect(result).toEqual({ rows: 0, requests: 0 });
    expect(sent).toEqual([]);
  });

  it('sends one row as one request: the header, then the row', async () => {
    const { result, sent } = await importAll(csvOf([row(1)]));

    expect(result).toEqual({ rows: 1, requests: 1 });
    expect(sent).toEqual([{ csv: csvOf([row(1)]), rows: 1, index: 0 }]);
  });

  it('sends exactly rowsPerRequest rows as a single request', async () => {
    const { result, sent } = await importAll(csvOf([row(1), row(2), row(3)]), { rowsPerRequest: 3 });

    expect(result).toEqual({ rows: 3, requests: 1 });
    expect(sent.map((chunk) => chunk.rows)).toEqual([3]);
  });

  it('sends rowsPerRequest + 1 rows as a full request and a request of one row', async () => {
    const { result, sent } = await importAll(csvOf([row(1), row(2), row(3), row(4)]), { rowsPerRequest: 3 });

    expect(result).toEqual({ rows: 4, requests: 2 });
    expect(sent.map((chunk) => [chunk.index, chunk.rows])).toEqual([
      [0, 3],
      [1, 1],
    ]);
    expect(records(sent[1]!.csv)).toEqual([HEADER, row(4)]);
  });

  it('repeats the header at the top of every chunk and keeps the rows in order', async () => {
    const input = Array.from({ length: 10 }, (_, i) => row(i));

    const { sent } = await importAll(csvOf(input), { rowsPerRequest: 4 });

    expect(sent.map((chunk) => records(chunk.csv)[0])).toEqual([HEADER, HEADER, HEADER]);
    expect(sent.flatMap((chunk) => records(chunk.csv).slice(1))).toEqual(input);
  });

  it('reports running totals after each delivered chunk', async () => {
    const progress: unknown[] = [];

    await importAll(csvOf([row(1), row(2), row(3), row(4), row(5)]), { rowsPerRequest: 2, onProgress: (p) => progress.push(p) });

    expect(progress).toEqual([
      { rows: 2, requests: 1 },
      { rows: 4, requests: 2 },
      { rows: 5, requests: 3 },
    ]);
  });

  it('refuses a rowsPerRequest that is not a positive integer', async () => {
    await expect(importAll(csvOf([row(1)]), { rowsPerRequest: 0 })).rejects.toThrow(/rowsPerRequest must be a positive integer/);
  });
});

describe('importCsv: what the fields hold survives', () => {
  const tricky = [
    ['u-1', 'b1', 'Anne, Marie', 'O"Brien', 'anne@example.com', 'Saint-Denis\nLa Réunion'],
    ['u-2', 'b2', '', '"quoted"', 'x@example.com', ' leading and trailing spaces '],
    ['u-3', 'b3', 'Zoë 👩‍🚀', 'a,b,"c"\r\nd', 'z@example.com', ''],
  ];

  it('keeps commas, quotes, newlines, blanks and non-ASCII text exactly', async () => {
    const input = `${HEADER.join(',')}\r\n${tricky.map((fields) => fields.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')).join('\r\n')}\r\n`;

    const { result, sent } = await importAll(input, { rowsPerRequest: 2 });

    expect(result.rows).toBe(3);
    expect(sent.flatMap((chunk) => records(chunk.csv).slice(1))).toEqual(tricky);
  });

  it('drops a byte order mark, so the first column keeps its name', async () => {
    const { sent } = await importAll(`\uFEFF${csvOf([row(1)])}`);

    expect(records(sent[0]!.csv)[0]).toEqual(HEADER);
  });

  it('skips blank lines between rows', async () => {
    const { result } = await importAll(`${csvLine(HEADER)}\n${csvLine(row(1))}\n\n${csvLine(row(2))}`);

    expect(result.rows).toBe(2);
  });
  it("sends the file's own rows (its quoting and line endings) after its header, without the byte order mark or blank lines", async () => {
    const header = 'external_id,"first name",city\r\n';
    const rows = ['"u-1",Ada,"Saint-Denis\r\nLa Réunion"\r\n', 'u-2,"Zoë ""Z""",Lyon\r\n', 'u-3,Eve,Paris'];

    const { sent } = await importAll(`\uFEFF\r\n${header}${rows[0]}\r\n\r\n${rows[1]}${rows[2]}`, { rowsPerRequest: 2 });

    expect(sent.map((chunk) => chunk.csv)).toEqual([header + rows[0] + rows[1], header + rows[2]]);
  });
});

describe('checkCsv and sendPlannedCsv: the two passes of the job', () => {
  const text = csvOf([row(1), row(2), row(3), row(4), row(5)]);

  it('plan the chunks in a first read and cut the same chunks from a second, as UTF-8 bytes', async () => {
    const plan = await checkCsv(streamOf(text), { rowsPerRequest: 2 });
    const sent: string[] = [];

    const result = await sendPlannedCsv(streamOf(text, 11), plan, { send: async (bytes) => void sent.push(bytes.toString('utf8')) });

    expect(result).toEqual({ rows: 5, requests: 3 });
    expect(sent).toEqual([csvOf([row(1), row(2)]), csvOf([row(3), row(4)]), csvOf([row(5)])]);
  });

  it('decodes a UTF-16 file (a UTF-16 byte order mark) to UTF-8, as it was read', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('external_id,city\nu-1,Réunion\n', 'utf16le')]);
    const plan = await checkCsv(Readable.from([bytes]), { rowsPerRequest: 10 });
    const sent: Buffer[] = [];

    await sendPlannedCsv(Readable.from([bytes]), plan, { send: async (chunk) => void sent.push(chunk) });

    expect(sent.map((chunk) => chunk.toString('utf8'))).toEqual(['external_id,city\nu-1,Réunion\n']);
  });

  it('fails, having sent only what it could cut, when the second read ends before the plan (the file changed)', async () => {
    const plan = await checkCsv(streamOf(text), { rowsPerRequest: 2 });
    const sent: number[] = [];

    const error = await rejectionOf(
      BridgeError,
      sendPlannedCsv(streamOf(csvOf([row(1), row(2)])), plan, { send: async (_bytes, rows) => void sent.push(rows) }),
    );

    expect(error.message).toMatch(/^the file ended at byte \d+, before the checked rows did \(it changed after it was checked\)$/);
    expect(sent).toEqual([2]);
  });
});

describe('importCsv: malformed files fail naming the line, never a value', () => {
  it('fails on a row with fewer fields than the header, naming its line, before sending its chunk', async () => {
    const input = csvOf([row(1), row(2), row(3), row(4)]) + csvLine(['u-5', 'b5', 'Eve', 'eve@example.com']) + csvLine(row(6));

    const { error, sent } = await failedImport(input, { rowsPerRequest: 3 });

    expect(error.line).toBe(6);
    expect(error.message).toBe('line 6: the row has 4 fields where the header has 6');
    expect(
      sent.flatMap((chunk) =>
        records(chunk.csv)
          .slice(1)
          .map((r) => r[0]),
      ),
    ).not.toContain('u-4'); // its chunk held the bad row
    expect(error.rowsSent).toBe(sent.reduce((n, chunk) => n + chunk.rows, 0));
  });

  it('counts the physical lines of quoted newlines in the line it names', async () => {
    const extraField = csvLine(['u-2', 'b2', 'extra', 'field', 'e@example.com', 'Paris', 'oops']);
    const input = `${csvLine(HEADER)}u-1,b1,Ada,Lovelace,ada@example.com,"two\nlines"\n${extraField}`;

    const { error } = await failedImport(input);

    expect(error.message).toBe('line 4: the row has 7 fields where the header has 6');
  });

  it('fails on a first row that is data rather than a header, without echoing it', async () => {
    const { error, sent } = await failedImport(csvLine(row(1)) + csvLine(row(2)), {
      identityColumns: ['external_id', 'braze_id', 'email'],
    });

    expect(error.line).toBe(1);
    expect(error.message).toMatch(/^line 1: no header row/);
    expect(error.message).not.toContain('ada1@example.com');
    expect(sent).toEqual([]);
  });

  it('accepts the dashboard spelling of an identity column ("Braze ID")', async () => {
    const { result } = await importAll('Braze ID,first_name\nb1,Ada\n', { identityColumns: ['braze_id'] });

    expect(result.rows).toBe(1);
  });

  it('fails on a header naming a column twice or leaving one blank', async () => {
    expect((await failedImport('external_id,email,email\n1,a,b\n')).error.message).toBe('line 1: the header row names a column twice');
    expect((await failedImport('external_id,,email\n1,a,b\n')).error.message).toBe('line 1: the header row has an empty column name (column 2)');
  });

  it('fails on a quote that is never closed without quoting the field', async () => {
    const { error } = await failedImport(`${csvLine(HEADER)}u-1,b1,"Ada,Lovelace,secret@example.com,Paris\n`);

    expect(error.message).toMatch(/^line 2: the file ends inside a quoted field/);
    expect(error.message).not.toContain('secret@example.com');
  });

  it('fails on a stray quote inside a field without quoting the field', async () => {
    const { error } = await failedImport(`${csvLine(HEADER)}u-1,b1,Ada,Love"lace,secret@example.com,Paris\n`);

    expect(error.message).toBe('line 2: a quote inside an unquoted field (field 4)');
  });

  it('stops at a row longer than maxRowChars instead of reading the rest of the file into it', async () => {
    const { error } = await failedImport(`${csvLine(HEADER)}u-1,b1,"${'x'.repeat(5_000)}`, { maxRowChars: 1_000 });

    expect(error.message).toMatch(/^line 2: a row longer than 1000 characters/);
  });
});

describe('importCsv: backpressure', () => {
  it('awaits each send before the next, with at most one chunk in flight', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const order: number[] = [];

    await importCsv(streamOf(csvOf(Array.from({ length: 20 }, (_, i) => row(i))), 64), {
      rowsPerRequest: 3,
      send: async (_csv, _rows, index) => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(index);
        inFlight--;
      },
    });

    expect(mostInFlight).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('stops reading the source while a chunk is being sent', async () => {
    const total = 20_000;
    let linesRead = 0;
    function* lines() {
      yield csvLine(HEADER);
      for (let i = 0; i < total; i++) {
        linesRead++;
        yield csvLine(row(i));
      }
    }
    let mostAhead = 0;

    await importCsv(Readable.from(lines(), { objectMode: false }), {
      rowsPerRequest: 100,
      send: async (_csv, rows, index) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        // Lines read from the source beyond those already handed to send.
        mostAhead = Math.max(mostAhead, linesRead - (index * 100 + rows));
      },
    });

    expect(linesRead).toBe(total);
    // Stream buffers (16 KB per stream, 16 parsed records) let it read ~1,100 lines (~65 KB) ahead; never the file (1.2 MB).
    expect(mostAhead).toBeLessThan(2_000);
  });
});

describe('lytics-csv-import handler', () => {
  const token = 'lytics-secret-token';
  const bucket = 'exports';
  const key = 'imports/lytics/segment export 2024.csv';
  const fileText = csvOf([row(1), row(2), row(3)]);

  /** What the SDK gives as Body: a Node stream with the SDK's helpers mixed in. */
  function sdkBody(text: string): GetObjectCommandOutput['Body'] {
    const stream = Readable.from([Buffer.from(text)]);
    return Object.assign(stream, {
      transformToByteArray: async () => new Uint8Array(Buffer.from(text)),
      transformToString: async () => text,
      transformToWebStream: () => Readable.toWeb(Readable.from([Buffer.from(text)])) as ReadableStream,
    });
  }

  function setup(env: Record<string, string>, replies = [reply(200, '{"status":200,"message":"success","data":{"message_count":3,"rejected_count":0}}')]) {
    const s3 = new S3Client({ region: 'eu-west-1' });
    const s3Mock = mockClient(s3);
    s3Mock.on(GetObjectCommand).callsFake(async () => ({ Body: sdkBody(fileText), ContentLength: fileText.length }));
    const scripted = scriptedFetch(...replies);
    const config = loadConfig({ LOG_LEVEL: 'INFO', LYTICS_API_TOKEN: token, LYTICS_CSV_ROWS_PER_REQUEST: '2', ...env });
    const deps = createDeps('lytics-csv-import', config, {
      secrets: EnvSecretStore.fromConfig(config),
      clock: new FakeClock(),
      http: new HttpClient({ fetch: scripted.fetch, clock: new FakeClock(), policy: { retries: 2, baseDelayMs: 1, maxDelayMs: 10, timeoutMs: 1_000 } }),
    });
    return { handler: build(deps, s3), s3Mock, requests: scripted.requests };
  }

  const event: S3Event = s3ObjectCreatedEvent(bucket, key, fileText.length);
  const context: Context = lambdaContext('lytics-csv-import', 900);

  /** Everything the handler writes (Powertools logs INFO to stdout, WARN and ERROR to stderr). */
  let output: string[];
  beforeEach(() => {
    output = [];
    const keep = (chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(keep);
    jest.spyOn(process.stderr, 'write').mockImplementation(keep);
  });
  afterEach(() => jest.restoreAllMocks());

  it('decodes the event key (+ for spaces) before reading the object', () => {
    expect(event.Records[0]?.s3.object.key).toBe('imports/lytics/segment+export+2024.csv');
    expect(decodeS3Key('imports/a+b%2Bc%C3%A9.csv')).toBe('imports/a b+cé.csv');
  });

  it('posts each chunk to the bulk API stream with the token in the Authorization header only', async () => {
    const { handler, s3Mock, requests } = setup({ LYTICS_BULK_API_URL: 'https://bulk.lytics.test/', LYTICS_API_URL: 'https://api.lytics.test' });

    const result = await handler(event, context);

    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({ Bucket: bucket, Key: key });
    expect(result).toEqual([expect.objectContaining({ bucket, key, rows: 3, requests: 2, rejected: 0 })]);
    expect(requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', 'https://bulk.lytics.test/collect/bulk/braze_segment_export'],
      ['POST', 'https://bulk.lytics.test/collect/bulk/braze_segment_export'],
    ]);
    expect(requests[0]?.headers).toEqual({ authorization: token, 'content-type': 'application/csv' });
    expect(requests.map((r) => r.body)).toEqual([csvOf([row(1), row(2)]), csvOf([row(3)])]);
  });

  it('reads the object a second time only as it was checked (If-Match its ETag), and parses it once', async () => {
    const { handler, s3Mock } = setup({ LYTICS_BULK_API_URL: 'https://bulk.lytics.test' });
    s3Mock.on(GetObjectCommand).callsFake(async () => ({ Body: sdkBody(fileText), ContentLength: fileText.length, ETag: '"e1"' }));

    await handler(event, context);

    expect(s3Mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: bucket, Key: key },
      { Bucket: bucket, Key: key, IfMatch: '"e1"' },
    ]);
  });

  it('fails, sending nothing, when the object has another size at the second read', async () => {
    const { handler, s3Mock, requests } = setup({ LYTICS_BULK_API_URL: 'https://bulk.lytics.test' });
    const sizes = [fileText.length, fileText.length + 10];
    s3Mock.on(GetObjectCommand).callsFake(async () => ({ Body: sdkBody(fileText), ContentLength: sizes.shift() }));

    const error = await rejectionOf(BridgeError, handler(event, context));

    expect(error.message).toBe(`s3://${bucket}/${key} changed after it was checked (${fileText.length} bytes, now ${fileText.length + 10})`);
    expect(requests).toEqual([]);
  });

  it('falls back to LYTICS_API_URL and posts to the configured stream', async () => {
    const { handler, requests } = setup({ LYTICS_API_URL: 'https://api.lytics.test/v2', LYTICS_CSV_STREAM: 'segment_exports' });

    await handler(event, context);

    expect(requests[0]?.url).toBe('https://api.lytics.test/v2/collect/bulk/segment_exports');
  });

  it('refuses to start without a Lytics URL, naming both variables', () => {
    const config = loadConfig({ LYTICS_API_TOKEN: token });

    expect(() => build(createDeps('lytics-csv-import', config), new S3Client({ region: 'eu-west-1' }))).toThrow(
      new ConfigError('LYTICS_BULK_API_URL (or LYTICS_API_URL) is not set'),
    );
  });

  it('logs bucket, key and counts, but no row content and no token', async () => {
    const { handler } = setup({ LYTICS_BULK_API_URL: 'https://bulk.lytics.test' });

    await handler(event, context);

    const logs = output.join('');
    expect(logs).toContain('"message":"csv import finished"');
    expect(logs).toContain(`"key":"${key}"`);
    expect(logs).toContain('"rows":3');
    for (const secretOrPii of [token, 'ada1@example.com', 'Lovelace2', 'Ada3']) expect(logs).not.toContain(secretOrPii);
  });

  it('reports rows Lytics rejected in its answer', async () => {
    const { handler } = setup({ LYTICS_BULK_API_URL: 'https://bulk.lytics.test' }, [
      reply(200, '{"status":200,"message":"success","data":{"message_count":2,"rejected_count":1}}'),
      reply(200, '{"status":200,"message":"success","data":{"message_count":1,"rejected_count":0}}'),
    ]);

    const [result] = await handler(event, context);

    expect(result?.rejected).toBe(1);
    expect(output.join('')).toContain('"message":"lytics rejected rows"');
  });

  it('fails the invocation when Lytics keeps failing, naming the status and no secret', async () => {
    const { handler, requests } = setup({ LYTICS_BULK_API_URL: 'https://bulk.lytics.test' }, [reply(500, 'boom')]);

    const error = await rejectionOf(RetryableDeliveryError, handler(event, context));

    expect(error.message).toBe('lytics bulk csv answered 500');
    expect(requests).toHaveLength(3); // the first chunk, retried twice; nothing after it
    expect(output.join('')).toContain('"message":"csv import failed"');
    expect(output.join('')).not.toContain(token);
  });

  it('refuses an event that is not an S3 notification', async () => {
    const { handler, requests } = setup({ LYTICS_BULK_API_URL: 'https://bulk.lytics.test' });

    await expect(handler({ Records: [{ s3: {} }] } as unknown as S3Event, context)).rejects.toThrow(/not an S3 event/);
    expect(requests).toEqual([]);
  });
});
