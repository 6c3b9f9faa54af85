import { randomBytes } from 'node:crypto';
import { decodeMessageBody, encodeMessageBody, GZIP_FROM_CHARS } from '../../../functions/core/message-body';

/** A bulk-lane message as the Lytics audience ingress writes it: 300 attribute objects, about 30 KB. */
const backfillBody = JSON.stringify({
  v: 1,
  flow: 'lytics-audiences',
  requestId: 'req-1',
  items: Array.from({ length: 300 }, (_, i) => ({ kind: 'attributes', object: { external_id: `u-${i}`, lytics_segments: { add: ['lytics_all'] } } })),
});

describe('message bodies through SQS', () => {
  it('sends a large body gzipped and base64-encoded, far shorter, and reads back the same JSON and its bytes', () => {
    const encoded = encodeMessageBody(backfillBody);

    expect(encoded.startsWith('H4sI')).toBe(true);
    expect(encoded.length).toBeLessThan(backfillBody.length / 10);
    expect(decodeMessageBody(encoded)).toEqual({ json: backfillBody, bytes: Buffer.byteLength(backfillBody) });
  });

  it('keeps a body under the threshold as plain JSON, readable as it is', () => {
    const small = JSON.stringify({ v: 1, flow: 'seen-callback', requestId: 'r', items: [{ kind: 'attributes', object: { braze_id: 'é' } }] });

    expect(encodeMessageBody(small)).toBe(small);
    expect(decodeMessageBody(small)).toEqual({ json: small, bytes: Buffer.byteLength(small) });
  });

  it('keeps a large body that would not shrink as it is', () => {
    // Random letters of two UTF-8 bytes each: gzip cannot shrink them enough to pay for base64.
    const noise = String.fromCharCode(...Array.from(randomBytes(GZIP_FROM_CHARS * 2), (byte) => 0x100 + byte * 7));
    const body = JSON.stringify({ v: 1, noise });

    expect(encodeMessageBody(body) === body).toBe(true);
  });

  it('does not encode an encoded body again (a copy or a redrive sends it as it came)', () => {
    const once = encodeMessageBody(backfillBody);
    const padded = once.padEnd(GZIP_FROM_CHARS + 1, '=');

    expect(encodeMessageBody(once)).toBe(once);
    expect(encodeMessageBody(padded)).toBe(padded);
  });

  it('throws on a body that says it is gzipped and is not, so the consumer parks it as malformed', () => {
    expect(() => decodeMessageBody('H4sInot-gzip')).toThrow();
  });
});
