/**
 * How a message body travels through SQS. A body of GZIP_FROM_CHARS characters or more (a backfill's
 * message: 300 Braze objects, about 30 KB of JSON) is sent gzipped and base64-encoded, about 1.3 KB,
 * when that is shorter; smaller bodies (a realtime record) stay plain JSON, readable as they are.
 * A backfill's JSON was otherwise escaped and copied byte by byte by the SDK on send, signed, written
 * to the queue's store, read back and parsed twice on receive: compressed, a 100,000-record backfill
 * through `npm start` used 16% less CPU and moved 15-20% more records a second (docs/benchmarks.md).
 *
 * The encoding names itself: base64 of a gzip stream always starts `H4sI` (its magic bytes 1f 8b and
 * method 08), and a JSON body of ours always starts `{`, so a body is decoded by what it is, whoever
 * sent it (an older ingress's plain body, a copy the consumer re-sent, a DLQ message redriven).
 * Encoding an encoded body changes nothing.
 */
export const GZIP_FROM_CHARS = 8 * 1024;
const GZIP_BASE64_PREFIX = 'H4sI';

/**
 * zlib, loaded at the first compressed body: every ingress bundles the queue sender, most never send
 * a body this large, and loading Node's modules at import costs each cold start (http-transport.ts).
 */
let zlib: typeof import('node:zlib') | undefined;
const loadZlib = () => (zlib ??= process.getBuiltinModule('node:zlib'));

/** The body as SQS carries it: gzipped and base64 when it is large and that is shorter, else as it is. */
export function encodeMessageBody(body: string): string {
  if (body.length < GZIP_FROM_CHARS || isEncoded(body)) return body;
  // Level 1: half the time of the default level 6 on such a body, for 1,316 bytes instead of 1,308.
  const gzip = loadZlib();
  const encoded = gzip.gzipSync(body, { level: gzip.constants.Z_BEST_SPEED }).toString('base64');
  return encoded.length < body.length ? encoded : body;
}

/**
 * The JSON of a body as SQS carried it, and its size in bytes (what a call's byte cap counts).
 * Throws when a body that says it is gzipped is not (the consumer parks it as malformed).
 */
export function decodeMessageBody(body: string): { json: string; bytes: number } {
  if (!isEncoded(body)) return { json: body, bytes: Buffer.byteLength(body) };
  const bytes = loadZlib().gunzipSync(Buffer.from(body, 'base64'));
  return { json: bytes.toString('utf8'), bytes: bytes.length };
}

function isEncoded(body: string): boolean {
  return body.startsWith(GZIP_BASE64_PREFIX);
}
