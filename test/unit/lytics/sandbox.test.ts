import { Readable } from 'node:stream';
import { lyticsSandboxAnswer, lyticsSandboxBody } from '../../../functions/lytics/sandbox';

/** A body as the sandbox's server hands it over: a stream, in pieces that cut rows (and a multi-byte letter) in two. */
const bodyOf = (text: string) => {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 5) pieces.push(bytes.subarray(i, i + 5));
  return Readable.from(pieces);
};

describe("the Lytics sandbox (npm start's stand-in) for the bulk CSV API", () => {
  it('counts the data rows of a bulk CSV as it streams: quoted newlines, CRLF and blank lines read as Lytics reads them', async () => {
    const csv = 'external_id,city\r\nu-1,"Saint-Denis\r\nLa Réunion"\r\n\r\nu-2,"a ""quoted"", comma"\r\nu-3,Lyon';

    const body = await lyticsSandboxBody('/collect/bulk/braze_segment_export', bodyOf(csv));

    expect(body).toEqual({ csv: { bytes: Buffer.byteLength(csv), rows: 3 } });
    expect(lyticsSandboxAnswer({ method: 'POST', path: '/collect/bulk/braze_segment_export', body })).toMatchObject({
      status: 200,
      body: { data: { message_count: 3, rejected_count: 0 } },
      summary: '3 record(s)',
    });
  });

  it('counts no row for a header alone, and leaves other paths to the JSON reader', async () => {
    expect(await lyticsSandboxBody('/collect/bulk/s', bodyOf('external_id,email\n'))).toEqual({ csv: { bytes: 18, rows: 0 } });
    expect(lyticsSandboxBody('/collect/json/s', bodyOf('[]'))).toBeUndefined();
  });
});
