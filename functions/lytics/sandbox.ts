import { Transform } from 'node:stream';
import Papa from 'papaparse';
import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

/** What Lytics answers on success (collect JSON and bulk CSV), for the local sandbox. */
export function lyticsSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method !== 'POST' || !/^\/collect\/(json|bulk)\/[^/?]+/.test(request.path)) return undefined;
  const csv = (request.body as { csv?: { rows: number } } | undefined)?.csv;
  const count = Array.isArray(request.body) ? request.body.length : csv ? csv.rows : request.body ? 1 : 0;
  return { status: 200, body: { status: 200, message: 'success', data: { message_count: count, rejected_count: 0 } }, summary: `${count} record(s)` };
}

/**
 * A bulk CSV can be hundreds of MB: count its records as it streams (quoted newlines included, as
 * Lytics parses them), keep none of it. Papa Parse counts about four times as fast as csv-parse
 * (the job's own parser, which must name a malformed row's line and field; the sandbox only
 * counts), so the sandbox is not what sets the pace of `npm run import:lytics` and its bench.
 * Counted alike on well-formed files but one case: Papa Parse takes a one-column row holding an
 * empty quoted value (`""`) for a blank line and skips it, where csv-parse counted it.
 */
export function lyticsSandboxBody(path: string, body: NodeJS.ReadableStream): Promise<unknown> | undefined {
  if (!path.includes('/collect/bulk/')) return undefined;
  return new Promise((resolve) => {
    let records = 0;
    let bytes = 0;
    const counted = () => resolve({ csv: { bytes, rows: Math.max(0, records - 1) } });
    body.on('data', (chunk: Buffer) => (bytes += chunk.length));
    body.once('error', counted);
    Papa.parse<string[]>(body.pipe(firstLineWhole()), {
      skipEmptyLines: true,
      chunk: (results) => {
        records += results.data.length;
      },
      complete: counted,
      // A stream that fails: the count stops where reading did.
      error: counted,
    });
  });
}

/** Bytes Papa Parse may be given before the first line ending: it guesses the file's line ending from the first piece. */
const FIRST_PIECE_MAX_BYTES = 64 * 1024;

/** Holds the first bytes back until they include a "\n" (or 64 KiB, for a file of "\r" endings), then passes everything on. */
function firstLineWhole(): Transform {
  let held: Buffer[] | undefined = [];
  let heldBytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!held) return callback(null, chunk);
      held.push(chunk);
      heldBytes += chunk.length;
      if (!chunk.includes(0x0a) && heldBytes < FIRST_PIECE_MAX_BYTES) return callback();
      const first = Buffer.concat(held);
      held = undefined;
      callback(null, first);
    },
    flush(callback) {
      callback(null, held && heldBytes > 0 ? Buffer.concat(held) : null);
    },
  });
}
