import { Unzip, type UnzipFile, UnzipInflate } from 'fflate';
import { ValidationError } from '../core/errors';

/** A place in a Braze export: the file inside the zip (0-based, in archive order) and the line in it (0-based). */
export interface ExportPosition {
  entry: number;
  line: number;
}

export interface ExportLine extends ExportPosition {
  /** One user, as Braze wrote it (a JSON object); never logged. */
  text: string;
  /** UTF-8 bytes of the line with its newline. */
  bytes: number;
}

/** What the reader has taken from the download so far: the figures behind "never the whole file in memory". */
export interface ExportReadCounters {
  /** Compressed bytes read from the download. */
  compressedBytes: number;
  /** Bytes inflated from the zip's files (every file, skipped ones included). */
  inflatedBytes: number;
  /** Bytes of the lines handed to the caller (newlines included). */
  yieldedBytes: number;
  /** Inflated bytes of lines skipped because they come before the resume position. */
  skippedBytes: number;
  /** Files found in the archive so far. */
  entries: number;
}

/** A line longer than this is refused (a file that is not newline-delimited JSON). */
const MAX_LINE_BYTES = 4 * 1024 * 1024;

/**
 * The lines of a Braze segment export (a zip of newline-delimited JSON files, one user per line),
 * read from `download` as it arrives, from `from` on. The zip is inflated chunk by chunk (fflate's
 * streaming Unzip, which needs no central directory and reads entries with data descriptors):
 * what is held at any time is the lines of one downloaded chunk not yet taken, plus one partial
 * line. The caller's `await` between lines is what pulls more of the download (backpressure).
 * Lines before `from` are inflated and dropped (a resumed run reads the archive from its start:
 * a presigned URL is read front to back); blank lines are counted but not yielded.
 */
export async function* readExportLines(
  download: AsyncIterable<Uint8Array>,
  from: ExportPosition = { entry: 0, line: 0 },
  counters: ExportReadCounters = newExportCounters(),
): AsyncGenerator<ExportLine> {
  const ready: ExportLine[] = [];
  let failure: Error | undefined;
  const unzip = new Unzip();
  unzip.register(UnzipInflate);
  unzip.onfile = (file: UnzipFile) => {
    const entry = counters.entries++;
    const decoder = new TextDecoder('utf-8', { fatal: false });
    let line = 0;
    let rest = '';
    const take = (text: string) => {
      const bytes = Buffer.byteLength(text) + 1;
      const at = line++;
      if (entry < from.entry || (entry === from.entry && at < from.line)) {
        counters.skippedBytes += bytes;
        return;
      }
      if (text.trim() === '') return;
      ready.push({ entry, line: at, text, bytes });
    };
    file.ondata = (error, data, final) => {
      if (error) {
        failure ??= new ValidationError(`the export's file ${entry + 1} is not a readable zip entry (${error.message})`);
        return;
      }
      counters.inflatedBytes += data.length;
      const text = rest + decoder.decode(data, { stream: !final });
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) take(part.endsWith('\r') ? part.slice(0, -1) : part);
      if (final && rest !== '') {
        take(rest);
        rest = '';
      }
      if (Buffer.byteLength(rest) > MAX_LINE_BYTES) {
        failure ??= new ValidationError(`the export's file ${entry + 1}, line ${line + 1}: longer than ${MAX_LINE_BYTES} bytes (not newline-delimited JSON)`);
      }
    };
    file.start();
  };

  let next = 0;
  const drain = function* () {
    while (next < ready.length) {
      const item = ready[next++]!;
      counters.yieldedBytes += item.bytes;
      yield item;
    }
    ready.length = 0;
    next = 0;
  };

  const push = (chunk: Uint8Array, final: boolean) => {
    try {
      unzip.push(chunk, final);
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'unreadable';
      failure ??= new ValidationError(
        final && counters.entries > 0
          ? `the export download ended before the end of its zip archive (${counters.compressedBytes} bytes read; ${reason})`
          : `the export is not a zip archive (${reason})`,
      );
    }
    if (failure) throw failure;
  };

  // The end of a zip is its end-of-central-directory record: a download cut short lacks it, and is
  // refused rather than read as a smaller export.
  let tail: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  for await (const chunk of download) {
    counters.compressedBytes += chunk.length;
    tail = keepTail(tail, chunk);
    push(chunk, false);
    yield* drain();
  }
  push(new Uint8Array(0), true);
  yield* drain();
  if (!hasEndOfCentralDirectory(tail)) {
    if (counters.compressedBytes === 0) throw new ValidationError('the export download is empty (not a zip archive)');
    if (counters.entries === 0) throw new ValidationError('the export is not a zip archive (no file, no end of archive)');
    throw new ValidationError(`the export download ended before the end of its zip archive (${counters.compressedBytes} bytes read)`);
  }
}

/** End-of-central-directory record: signature PK\x05\x06, 22 bytes, then a comment of up to 65,535 bytes. */
const EOCD_MAX_BYTES = 22 + 65_535;

function keepTail(tail: Uint8Array, chunk: Uint8Array): Uint8Array {
  if (chunk.length >= EOCD_MAX_BYTES) return chunk.slice(chunk.length - EOCD_MAX_BYTES);
  const joined = new Uint8Array(Math.min(EOCD_MAX_BYTES, tail.length + chunk.length));
  const fromTail = joined.length - chunk.length;
  joined.set(tail.subarray(tail.length - fromTail), 0);
  joined.set(chunk, fromTail);
  return joined;
}

function hasEndOfCentralDirectory(tail: Uint8Array): boolean {
  for (let at = tail.length - 22; at >= 0; at--) {
    if (tail[at] === 0x50 && tail[at + 1] === 0x4b && tail[at + 2] === 0x05 && tail[at + 3] === 0x06) return true;
  }
  return false;
}

export function newExportCounters(): ExportReadCounters {
  return { compressedBytes: 0, inflatedBytes: 0, yieldedBytes: 0, skippedBytes: 0, entries: 0 };
}
