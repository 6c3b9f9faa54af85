import { isUtf8 } from 'node:buffer';
import { pipeline, type Readable } from 'node:stream';
import { CsvError, type Info, type Parser, parse } from 'csv-parse';
import { BridgeError, ValidationError } from '../core/errors';

/**
 * A CSV file with a header row, cut into chunks of whole rows for the Lytics bulk CSV API. The
 * file is parsed once (csv-parse, the judge of what is well-formed) to find where each chunk's
 * rows lie in its bytes; a chunk is then those bytes as they are, after the header's: no row is
 * re-encoded, so what Lytics reads is what the file holds (its quoting, its line endings).
 */

/** A row longer than this is refused: an unclosed quote would otherwise swallow the rest of the file. */
const DEFAULT_MAX_ROW_CHARS = 1_000_000;

export interface CsvImportProgress {
  /** Data rows delivered so far (the header excluded). */
  rows: number;
  /** Requests that succeeded so far. */
  requests: number;
}

/** Delivers one chunk: the header row followed by `rows` data rows, as CSV text or its UTF-8 bytes. */
type SendChunk<Csv> = (csvChunk: Csv, rows: number, index: number) => Promise<void>;

export interface CsvScanOptions {
  /** Data rows per chunk (each chunk repeats the header). */
  rowsPerRequest: number;
  /** The header must name at least one of these (case-insensitive); none checked when empty. */
  identityColumns?: readonly string[];
  maxRowChars?: number;
}

export interface CsvImportOptions extends CsvScanOptions {
  /** Awaited before more of the source is read, so at most one chunk is in memory and in flight. */
  send: SendChunk<string>;
  /** Called after every delivered chunk, with running totals. */
  onProgress?: (progress: CsvImportProgress) => void;
}

export interface PlannedSendOptions {
  /** Gets each chunk as UTF-8 bytes, ready for a request body; awaited before the next is sent. */
  send: SendChunk<Buffer>;
  /** Called after every delivered chunk, with running totals. */
  onProgress?: (progress: CsvImportProgress) => void;
}

/**
 * Where a checked file's chunks lie, as byte offsets from its first byte (a byte order mark
 * included): chunk i holds `rows[i]` rows, the bytes from `ends[i - 1]` (the header's end for the
 * first) to `ends[i]`, less the blank lines in `skips`. A few numbers a chunk, whatever its size.
 */
export interface CsvPlan {
  /** The file's text encoding: utf8, or utf16le after a UTF-16 byte order mark (as csv-parse reads it). */
  encoding: BufferEncoding;
  /** The header row's bytes, its line ending included and the byte order mark not. */
  header: { start: number; end: number };
  rows: number[];
  ends: number[];
  /** Blank lines between rows, left out of the chunks: flat [start, end) pairs, in file order. */
  skips: number[];
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

const BYTE_ORDER_MARKS: readonly Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0xff, 0xfe])];

/**
 * Parses `source` once and plans its chunks of at most `rowsPerRequest` rows, calling `onChunk`
 * with each chunk's index as soon as its last row is parsed and awaiting it before reading on.
 * Quotes, embedded commas and newlines, CRLF, a BOM and blank lines are csv-parse's to read.
 * Fails with CsvFormatError on the first malformed row (`rowsSent`: the rows of chunks whose
 * `onChunk` has resolved); `onBytes` sees every byte of `source` before the parser does.
 */
async function scanCsv(
  source: Readable,
  options: CsvScanOptions,
  onChunk: (plan: CsvPlan, index: number) => Promise<void> = async () => undefined,
  onBytes?: (bytes: Buffer) => void,
): Promise<CsvPlan> {
  const { rowsPerRequest } = options;
  if (!Number.isInteger(rowsPerRequest) || rowsPerRequest < 1) {
    throw new RangeError(`rowsPerRequest must be a positive integer, got ${rowsPerRequest}`);
  }
  const maxRowChars = options.maxRowChars ?? DEFAULT_MAX_ROW_CHARS;
  const parser = parse({ bom: true, skip_empty_lines: true, info: true, max_record_size: maxRowChars });
  // pipeline destroys both streams when either fails or when iteration stops early; errors
  // surface through the iterator below.
  pipeline(source, parser, () => undefined);
  const tap = tapBytes(source, onBytes);

  const plan: CsvPlan = { encoding: 'utf8', header: { start: 0, end: 0 }, rows: [], ends: [], skips: [] };
  let header: string[] | undefined;
  let rowsDone = 0;
  let pendingRows = 0;
  let lastEnd = 0;
  let emptyLines = 0;
  const close = async (end: number) => {
    plan.rows.push(pendingRows);
    plan.ends.push(end);
    pendingRows = 0;
    await onChunk(plan, plan.ends.length - 1);
    rowsDone += plan.rows.at(-1) ?? 0;
  };

  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      // Between the last row's end and this one's start lie only the blank lines csv-parse skipped.
      const start = (header ? lastEnd : tap.byteOrderMarkLength()) + (info.empty_lines - emptyLines) * recordDelimiterBytes(parser);
      emptyLines = info.empty_lines;
      if (!header) {
        header = checkedHeader(record, info.lines, options.identityColumns ?? []);
        plan.encoding = parser.options.encoding ?? 'utf8';
        plan.header = { start, end: info.bytes };
      } else {
        if (start > lastEnd) plan.skips.push(lastEnd, start);
        pendingRows++;
        if (pendingRows >= rowsPerRequest) await close(info.bytes);
      }
      lastEnd = info.bytes;
    }
  } catch (error) {
    if (error instanceof CsvError) throw formatError(error, header, rowsDone, maxRowChars);
    throw error;
  }
  if (pendingRows > 0) await close(lastEnd);
  return plan;
}

/** The length in bytes of the line ending csv-parse found (0 before it has found one). */
function recordDelimiterBytes(parser: Parser): number {
  return parser.options.record_delimiter[0]?.length ?? 0;
}

/**
 * Shows each chunk of `source` to `onBytes` as it is emitted (before the parser it is piped to
 * sees it) and keeps the first three bytes, for the byte order mark. A listener rather than a
 * stream stage: a stage would buffer another 64 KiB ahead of the parser.
 */
function tapBytes(source: Readable, onBytes?: (bytes: Buffer) => void) {
  let first = Buffer.alloc(0);
  // prependListener adds no listener Readable sees (it stays as pipeline set it: flowing, paused
  // when the parser is full) and runs before pipe's own.
  source.prependListener('data', (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (first.length < 3) first = Buffer.concat([first, bytes.subarray(0, 3 - first.length)]);
    onBytes?.(bytes);
  });
  return {
    byteOrderMarkLength: () => BYTE_ORDER_MARKS.find((mark) => first.subarray(0, mark.length).equals(mark))?.length ?? 0,
  };
}

/**
 * The bytes of a stream from some offset on, appended as they are read, from which a planned
 * chunk is cut; what lies before a cut chunk's end is let go.
 */
class ByteWindow {
  private readonly buffers: Buffer[] = [];
  /** Offset in the file of buffers[0]'s first byte. */
  private start = 0;
  /** Offset in the file just past the last byte appended. */
  end = 0;
  private header?: Buffer;
  /** Index in plan.skips of the first pair not yet behind a cut chunk. */
  private skip = 0;

  append(bytes: Buffer): void {
    this.buffers.push(bytes);
    this.end += bytes.length;
  }

  /**
   * Chunk `index` of `plan` as UTF-8 text (the header row, then its rows): the file's own bytes,
   * unless it is UTF-16 or holds bytes that are not UTF-8 (decoded as before, invalid bytes as
   * U+FFFD). Its bytes must all have been appended.
   */
  cut(plan: CsvPlan, index: number): Buffer {
    const { header, skips } = plan;
    this.header ??= this.copy(header.start, header.end);
    const from = index === 0 ? header.end : (plan.ends[index - 1] ?? 0);
    const to = plan.ends[index] ?? from;
    const pieces: [number, number][] = [];
    let at = from;
    while (this.skip < skips.length && (skips[this.skip] ?? to) < to) {
      const [skipStart = to, skipEnd = to] = [skips[this.skip], skips[this.skip + 1]];
      if (skipStart > at) pieces.push([at, skipStart]);
      at = Math.max(at, skipEnd);
      this.skip += 2;
    }
    if (to > at) pieces.push([at, to]);
    const size = this.header.length + pieces.reduce((n, [a, b]) => n + b - a, 0);
    const out = Buffer.allocUnsafe(size);
    let written = this.header.copy(out, 0);
    for (const [a, b] of pieces) written += this.copyInto(a, b, out, written);
    this.release(to);
    const bytes = out.subarray(0, written);
    return plan.encoding === 'utf8' && isUtf8(bytes) ? bytes : Buffer.from(bytes.toString(plan.encoding), 'utf8');
  }

  private copy(from: number, to: number): Buffer {
    const out = Buffer.allocUnsafe(to - from);
    this.copyInto(from, to, out, 0);
    return out;
  }

  private copyInto(from: number, to: number, target: Buffer, at: number): number {
    if (from < this.start || to > this.end) throw new BridgeError(`bytes ${from}-${to} are not in the window (${this.start}-${this.end})`);
    let offset = this.start;
    let written = 0;
    for (const buffer of this.buffers) {
      const bufferEnd = offset + buffer.length;
      if (bufferEnd > from && offset < to) {
        written += buffer.copy(target, at + written, Math.max(0, from - offset), Math.min(buffer.length, to - offset));
      }
      offset = bufferEnd;
      if (offset >= to) break;
    }
    return written;
  }

  /** Lets go of the buffers wholly before `offset`. */
  private release(offset: number): void {
    while (this.buffers.length > 0 && this.start + (this.buffers[0]?.length ?? 0) <= offset) {
      this.start += this.buffers.shift()?.length ?? 0;
    }
  }
}

/**
 * Streams a CSV with a header row from `source` to `send`, in chunks of at most `rowsPerRequest`
 * data rows, each after the header, in one pass: a chunk is sent as soon as its last row is parsed,
 * so a malformed row further on fails the import after the chunks before it went out. The file is
 * never held whole: reading pauses while a chunk is sent. An empty file, or one holding only a
 * header, sends nothing.
 */
export async function importCsv(source: Readable, options: CsvImportOptions): Promise<CsvImportProgress> {
  const window = new ByteWindow();
  const progress: CsvImportProgress = { rows: 0, requests: 0 };
  await scanCsv(
    source,
    options,
    async (plan, index) => {
      const rows = plan.rows[index] ?? 0;
      await options.send(window.cut(plan, index).toString('utf8'), rows, index);
      delivered(progress, rows, options.onProgress);
    },
    (bytes) => window.append(bytes),
  );
  return progress;
}

/** Reads a whole file and plans its chunks, sending nothing: throws CsvFormatError as importCsv would. */
export function checkCsv(source: Readable, options: CsvScanOptions): Promise<CsvPlan> {
  return scanCsv(source, options);
}

/**
 * Sends the chunks `plan` found in an earlier read of the same file (checkCsv), cutting them from
 * `source` without parsing it again. One chunk is sent at a time; the next one's bytes are read
 * from `source` while it is in flight, so at most two chunks are held. Fails if `source` ends
 * before the plan does (the file changed between the two reads).
 */
export async function sendPlannedCsv(source: Readable, plan: CsvPlan, options: PlannedSendOptions): Promise<CsvImportProgress> {
  const window = new ByteWindow();
  const progress: CsvImportProgress = { rows: 0, requests: 0 };
  const reader = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const readThrough = async (index: number) => {
    const needed = plan.ends[index] ?? 0;
    while (window.end < needed) {
      const next = await reader.next();
      if (next.done) throw new BridgeError(`the file ended at byte ${window.end}, before the checked rows did (it changed after it was checked)`);
      window.append(next.value);
    }
  };
  try {
    let read = readThrough(0);
    for (let index = 0; index < plan.ends.length; index++) {
      await read;
      const rows = plan.rows[index] ?? 0;
      const sending = options.send(window.cut(plan, index), rows, index);
      read = index + 1 < plan.ends.length ? readThrough(index + 1) : Promise.resolve();
      // Awaited on the next turn; if the send fails first, the read's own failure is of no interest.
      read.catch(() => undefined);
      await sending;
      delivered(progress, rows, options.onProgress);
    }
  } finally {
    // Trailing blank lines are never read, nor the rest of the file after a failed send: let the connection go.
    source.destroy();
  }
  return progress;
}

function delivered(progress: CsvImportProgress, rows: number, onProgress?: (progress: CsvImportProgress) => void): void {
  progress.rows += rows;
  progress.requests += 1;
  onProgress?.({ ...progress });
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
