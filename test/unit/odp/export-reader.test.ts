import { Readable } from 'node:stream';
import { Zip, ZipDeflate, zipSync } from 'fflate';
import { type ExportLine, newExportCounters, readExportLines } from '../../../functions/odp/export-reader';
import { exportZip } from '../../support/braze-export';

/** The zip handed out in 64 KiB chunks, as a download arrives. */
function download(zip: Buffer, chunkBytes = 64 * 1024): AsyncIterable<Uint8Array> {
  return Readable.from(
    (function* () {
      for (let at = 0; at < zip.length; at += chunkBytes) yield zip.subarray(at, at + chunkBytes);
    })(),
  );
}

async function readAll(lines: AsyncIterable<ExportLine>): Promise<ExportLine[]> {
  const all: ExportLine[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

describe('readExportLines (a Braze segment export: zip of newline-delimited JSON)', () => {
  // 20,000 users in four files; 600 random characters each, so the export is ~14 MB inflated and
  // ~7 MB compressed: holding it, or one of its files, would show in the counters.
  const users = 20_000;
  const zip = exportZip(users, 5_000, 600);

  it('reads every user of every file, in order, with its file and line', async () => {
    const counters = newExportCounters();
    const lines = await readAll(readExportLines(download(zip), undefined, counters));
    expect(lines).toHaveLength(users);
    expect(counters.entries).toBe(4);
    expect(lines.map((line) => (JSON.parse(line.text) as { external_id: string }).external_id)).toEqual(Array.from({ length: users }, (_, i) => `u-${i}`));
    expect(lines[5_000]).toMatchObject({ entry: 1, line: 0 });
    expect(lines[19_999]).toMatchObject({ entry: 3, line: 4_999 });
    expect(counters.compressedBytes).toBe(zip.length);
  });

  it('holds no more than one downloaded chunk of lines ahead of what the caller took', async () => {
    const counters = newExportCounters();
    let maxHeld = 0;
    let taken = 0;
    for await (const line of readExportLines(download(zip), undefined, counters)) {
      taken += line.bytes;
      // What the reader has inflated and not handed out yet (the partial line included).
      maxHeld = Math.max(maxHeld, counters.inflatedBytes - counters.yieldedBytes);
      // The caller is slow: each line is "sent" before the next one is asked for.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(taken).toBe(counters.inflatedBytes);
    expect(counters.inflatedBytes).toBeGreaterThan(12 * 1024 * 1024);
    // A 64 KiB chunk of this data inflates to ~130 KiB; one file is ~3.5 MB.
    expect(maxHeld).toBeLessThan(512 * 1024);
  });

  it('resumes at a saved position: nothing before it is handed out, everything after it is', async () => {
    const counters = newExportCounters();
    const lines = await readAll(readExportLines(download(zip), { entry: 2, line: 1_234 }, counters));
    expect(lines).toHaveLength(users - (2 * 5_000 + 1_234));
    expect(lines[0]).toMatchObject({ entry: 2, line: 1_234 });
    expect(JSON.parse(lines[0]!.text)).toMatchObject({ external_id: `u-${2 * 5_000 + 1_234}` });
    expect(counters.skippedBytes).toBeGreaterThan(0);
  });

  it('reads a zip streamed with data descriptors (sizes after the data), and lines without a final newline', async () => {
    const parts: Uint8Array[] = [];
    const archive = new Zip((error, data) => {
      if (error) throw error;
      parts.push(data);
    });
    for (const name of ['a.txt', 'b.txt']) {
      const file = new ZipDeflate(name, { level: 1 });
      archive.add(file);
      file.push(new TextEncoder().encode(`{"email":"${name}-1@example.com"}\r\n\n{"email":"${name}-2@example.com"}`), true);
    }
    archive.end();
    const lines = await readAll(readExportLines(download(Buffer.concat(parts), 7)));
    expect(lines.map((line) => [line.entry, line.line, line.text])).toEqual([
      [0, 0, '{"email":"a.txt-1@example.com"}'],
      [0, 2, '{"email":"a.txt-2@example.com"}'],
      [1, 0, '{"email":"b.txt-1@example.com"}'],
      [1, 2, '{"email":"b.txt-2@example.com"}'],
    ]);
  });

  it('refuses a download cut short (no end of archive), after handing out what it read, and an empty one', async () => {
    const lines: ExportLine[] = [];
    const cut = readExportLines(download(zip.subarray(0, Math.floor(zip.length / 2))));
    await expect(
      (async () => {
        for await (const line of cut) lines.push(line);
      })(),
    ).rejects.toThrow(/ended before the end of its zip archive/);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(users);
    await expect(readAll(readExportLines(download(Buffer.alloc(0))))).rejects.toThrow(/empty/);
  });

  it('reads an export of an empty segment (a zip with no file) as no user', async () => {
    const empty = Buffer.from(zipSync({}));
    expect(await readAll(readExportLines(download(empty)))).toEqual([]);
  });

  it('refuses a download that is not a zip, naming it', async () => {
    await expect(readAll(readExportLines(download(Buffer.from('<Error><Code>AccessDenied</Code></Error>'.repeat(10)))))).rejects.toThrow(/not a zip archive/);
  });
});
