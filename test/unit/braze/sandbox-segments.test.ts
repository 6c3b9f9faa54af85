/**
 * The Braze sandbox's segments and segment exports, called as local/sandbox.ts calls them: the
 * segment list paged as Braze pages it, the export's 400s and its download URL (404 until ready, then
 * a ZIP streamed as it is generated).
 */
import type { Readable } from 'node:stream';
import { Unzip, UnzipInflate, unzipSync } from 'fflate';
import { brazeSandboxAnswer, SANDBOX_SEGMENTS, sandboxExportProgress, sandboxSegmentUser } from '../../../functions/braze/sandbox';
import type { SandboxAnswer } from '../../../functions/core/sandbox-types';

const BASE = 'http://127.0.0.1:9999/braze';
const ENV = 'BRAZE_SANDBOX_SEGMENT_USERS';

const get = (path: string) => brazeSandboxAnswer({ method: 'GET', path, body: undefined, baseUrl: BASE });
const post = (path: string, body: unknown) => brazeSandboxAnswer({ method: 'POST', path, body, baseUrl: BASE });

interface ExportBody {
  message: string;
  object_prefix: string;
  url: string;
}

/** POSTs an export and returns its id and download path (under the partner's prefix). */
function startExport(segmentId: string, fields: string[]): { id: string; path: string; answer: SandboxAnswer } {
  const answer = post('/users/export/segment', { segment_id: segmentId, fields_to_export: fields, output_format: 'zip' })!;
  const { url } = answer.body as ExportBody;
  const id = /\/_exports\/([^/]+)\.zip$/.exec(url)?.[1];
  if (!id) throw new Error(`unexpected url ${url}`);
  return { id, path: url.slice(BASE.length), answer };
}

async function readAll(answer: SandboxAnswer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer.stream!()) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** The archive's entries as text, in archive order. */
function entries(zip: Uint8Array): [string, string][] {
  return Object.entries(unzipSync(zip)).map(([name, data]) => [name, Buffer.from(data).toString('utf8')]);
}

/** The ready ZIP of an export: the first GET finds it not ready, the second streams it. */
async function downloadZip(path: string): Promise<Buffer> {
  expect(get(path)?.status).toBe(404);
  const ready = get(path)!;
  expect(ready.status).toBe(200);
  return readAll(ready);
}

describe('Braze sandbox: GET /segments/list', () => {
  it('lists the sandbox segments on page 0, as Braze shapes them', () => {
    const answer = get('/segments/list?page=0&sort_direction=asc')!;

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      message: 'success',
      segments: [
        { id: 'sandbox-all-users', name: 'All Users', analytics_tracking_enabled: false, tags: [] },
        { id: 'sandbox-vip', name: 'VIP', analytics_tracking_enabled: false, tags: [] },
        { id: 'sandbox-lapsed', name: 'Lapsed 30 days', analytics_tracking_enabled: false, tags: [] },
      ],
    });
    expect(answer.summary).toBe('3 segment(s)');
  });

  it('answers an empty page after the last one, and page 0 when no page is given', () => {
    expect(get('/segments/list?page=1&sort_direction=asc')?.body).toEqual({ message: 'success', segments: [] });
    expect(get('/segments/list?page=1')?.summary).toBe('0 segment(s)');
    expect((get('/segments/list')!.body as { segments: unknown[] }).segments).toHaveLength(3);
  });

  it('lists newest first for sort_direction=desc', () => {
    const ids = (get('/segments/list?page=0&sort_direction=desc')!.body as { segments: { id: string }[] }).segments.map((s) => s.id);
    expect(ids).toEqual(['sandbox-lapsed', 'sandbox-vip', 'sandbox-all-users']);
  });

  it('still answers nothing for a path Braze does not have', () => {
    expect(get('/segments/details')).toBeUndefined();
    expect(get('/users/export/segment')).toBeUndefined();
  });
});

describe('Braze sandbox: POST /users/export/segment', () => {
  it('answers 400 with a message for an unknown segment_id', () => {
    const answer = post('/users/export/segment', { segment_id: 'no-such-segment', fields_to_export: ['email'] })!;
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ message: expect.any(String) });
    expect(answer.stream).toBeUndefined();
  });

  it.each([
    ['missing', { segment_id: 'sandbox-vip' }],
    ['empty', { segment_id: 'sandbox-vip', fields_to_export: [] }],
    ['not a list', { segment_id: 'sandbox-vip', fields_to_export: 'email' }],
  ])('answers 400 when fields_to_export is %s', (_case, body) => {
    const answer = post('/users/export/segment', body)!;
    expect(answer.status).toBe(400);
    expect((answer.body as { message: string }).message).toMatch(/fields_to_export/);
  });

  it('answers 201 success with an object_prefix and a download URL under the sandbox', () => {
    const { id, answer } = startExport('sandbox-vip', ['email']);

    expect(answer.status).toBe(201);
    const body = answer.body as ExportBody;
    expect(body).toEqual({ message: 'success', object_prefix: expect.stringMatching(/^[0-9a-f-]{36}-\d+$/), url: `${BASE}/_exports/${id}.zip` });
    expect(id).toBe(body.object_prefix);
    expect(answer.summary).toBe('export of sandbox-vip (120 users)');
    // Every export has its own URL.
    expect(startExport('sandbox-vip', ['email']).id).not.toBe(id);
  });
});

describe('Braze sandbox: the export download URL', () => {
  const saved = process.env[ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[ENV];
    else process.env[ENV] = saved;
  });

  it('answers 404 as S3 does before the export is ready, then 200 with a ZIP at every later GET', async () => {
    const { path } = startExport('sandbox-vip', ['email']);

    const first = get(path)!;
    expect(first.status).toBe(404);
    expect(first.contentType).toBe('application/xml');
    expect(first.body).toContain('<Code>NoSuchKey</Code>');
    expect(first.stream).toBeUndefined();

    for (let i = 0; i < 2; i++) {
      const ready = get(path)!;
      expect(ready.status).toBe(200);
      expect(ready.contentType).toBe('application/zip');
      expect(ready.summary).toBe('zip of 120 users in 1 file(s)');
      const files = entries(await readAll(ready));
      expect(files.map(([name]) => name)).toEqual(['sandbox-vip-part-0.txt']);
    }
  });

  it('answers 404 for an export it does not know', () => {
    expect(get('/_exports/not-an-export.zip')?.status).toBe(404);
  });

  it('uses each segment its own size by default', async () => {
    delete process.env[ENV];
    for (const segment of SANDBOX_SEGMENTS) {
      const { path, answer } = startExport(segment.id, ['email']);
      expect(answer.summary).toBe(`export of ${segment.id} (${segment.users} users)`);
      const lines = entries(await downloadZip(path)).flatMap(([, text]) => text.split('\n').filter(Boolean));
      expect(lines).toHaveLength(segment.users);
    }
    expect(SANDBOX_SEGMENTS.map((s) => s.users)).toEqual([2_500, 120, 600]);
  });

  it(`writes ${ENV} users in files of 5,000, one user per line, limited to fields_to_export`, async () => {
    process.env[ENV] = '20000';
    const { id, path, answer } = startExport('sandbox-lapsed', ['email', 'custom_attributes', 'no_such_field']);
    expect(answer.summary).toBe('export of sandbox-lapsed (20000 users)');

    const files = entries(await downloadZip(path));

    expect(files.map(([name]) => name)).toEqual([0, 1, 2, 3].map((n) => `sandbox-lapsed-part-${n}.txt`));
    const users: Record<string, unknown>[] = [];
    for (const [, text] of files) {
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.split('\n').slice(0, -1);
      expect(lines).toHaveLength(5_000);
      users.push(...lines.map((line) => JSON.parse(line) as Record<string, unknown>));
    }
    expect(users.map((user) => user.external_id)).toEqual(Array.from({ length: 20_000 }, (_, i) => `sandbox-lapsed-${i}`));
    // One expect over all users (20,000 expects would take seconds).
    const shapes = new Set(users.map((user) => Object.keys(user).join()));
    expect([...shapes].sort()).toEqual(['external_id,braze_id,custom_attributes', 'external_id,braze_id,email,custom_attributes']);
    expect(users.filter((user) => !/^[0-9a-f]{24}$/.test(String(user.braze_id)))).toEqual([]);
    const attributes = new Set(users.map((user) => Object.keys(user.custom_attributes as object).join()));
    expect([...attributes]).toEqual(['loyalty_tier,signup_source']);
    const withoutEmail = users.flatMap((user, index) => ('email' in user ? [] : [index]));
    expect(withoutEmail).toEqual(Array.from({ length: 2_000 }, (_, i) => i * 10 + 9));
    expect(users[0]?.email).toBe('user0@example.com');
    expect(sandboxExportProgress(id)).toBe(20_000);
  });

  it('keeps external_id and braze_id whatever is asked, and every field asked for', async () => {
    const { path } = startExport('sandbox-vip', ['first_name', 'last_name', 'country', 'language']);
    const [[, text]] = entries(await downloadZip(path)) as [[string, string]];
    const user = JSON.parse(text.split('\n')[0]!) as Record<string, unknown>;
    expect(Object.keys(user)).toEqual(['external_id', 'braze_id', 'first_name', 'last_name', 'country', 'language']);
    expect(user).toMatchObject({
      first_name: expect.any(String),
      last_name: expect.any(String),
      country: expect.stringMatching(/^[A-Z]{2}$/),
      language: expect.stringMatching(/^[a-z]{2}$/),
    });
  });

  it('can be read entry by entry with a streaming unzip (its entries end with data descriptors)', async () => {
    process.env[ENV] = '12000';
    const { path } = startExport('sandbox-all-users', ['email']);
    expect(get(path)?.status).toBe(404);
    const ready = get(path)!;

    const lines = new Map<string, number>();
    const unzip = new Unzip((file) => {
      let count = 0;
      file.ondata = (error, data, final) => {
        if (error) throw error;
        count += Buffer.from(data).toString('utf8').split('\n').length - 1;
        if (final) lines.set(file.name, count);
      };
      file.start();
    });
    unzip.register(UnzipInflate);
    for await (const chunk of ready.stream!()) unzip.push(chunk as Uint8Array);
    unzip.push(new Uint8Array(0), true);

    expect([...lines]).toEqual([
      ['sandbox-all-users-part-0.txt', 5_000],
      ['sandbox-all-users-part-1.txt', 5_000],
      ['sandbox-all-users-part-2.txt', 2_000],
    ]);
  });

  it('generates users only as the ZIP is read', () => {
    // A fake clock runs every turn the stream schedules (setImmediate, nextTick) until none is left:
    // a stream that kept generating without a reader would not stop short of 500,000.
    jest.useFakeTimers();
    try {
      process.env[ENV] = '500000';
      const { id, path } = startExport('sandbox-all-users', ['email', 'custom_attributes']);
      expect(get(path)?.status).toBe(404);
      const stream = get(path)!.stream!() as Readable;
      stream.on('error', (error) => {
        throw error;
      });

      stream.read(0);
      jest.runAllTimers();
      const first = stream.read() as Buffer | null;
      jest.runAllTimers();

      expect(first?.length).toBeGreaterThan(0);
      const generated = sandboxExportProgress(id)!;
      expect(generated).toBeGreaterThan(0);
      // fflate holds back a deflate block, so a few thousand users: far from 500,000.
      expect(generated).toBeLessThan(10_000);
      stream.destroy();
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives the same user for the same segment and index, and another for another segment', () => {
    expect(sandboxSegmentUser('sandbox-vip', 42)).toEqual(sandboxSegmentUser('sandbox-vip', 42));
    expect(sandboxSegmentUser('sandbox-vip', 42).braze_id).not.toBe(sandboxSegmentUser('sandbox-lapsed', 42).braze_id);
    expect(sandboxSegmentUser('sandbox-vip', 42).braze_id).not.toBe(sandboxSegmentUser('sandbox-vip', 43).braze_id);
  });
});
