/**
 * local/sandbox.ts over real HTTP: the Braze sandbox's segment export end to end (a download URL
 * pointing back at the sandbox, a 500,000-user ZIP streamed with backpressure), streamed and raw
 * answers, and the bound on the request bodies it keeps.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { Unzip, UnzipInflate, unzipSync } from 'fflate';
import { braze } from '../../functions/braze/partner';
import { sandboxExportProgress } from '../../functions/braze/sandbox';
import { partners } from '../../functions/catalogue';
import type { PartnerSandbox } from '../../functions/core/catalogue-types';
import { Sandbox, startSandboxFor } from '../../local/sandbox';
import { stopAll } from '../support/teardown';

const ENV = 'BRAZE_SANDBOX_SEGMENT_USERS';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The users an export's stream has generated, once that stops growing (throws if it never does). */
async function settledProgress(exportId: string): Promise<number> {
  let last = sandboxExportProgress(exportId);
  for (let i = 0; i < 40; i++) {
    await sleep(250);
    const now = sandboxExportProgress(exportId);
    if (now === last) return now!;
    last = now;
  }
  throw new Error(`export ${exportId} kept generating: ${last} users`);
}

/** A test partner: a stream that fails after its first chunk, and a raw text body. */
const failing: PartnerSandbox = {
  urlSetting: 'FAILING_URL',
  answer: (request) => {
    if (request.path === '/broken') {
      return {
        status: 200,
        body: undefined,
        contentType: 'text/plain',
        summary: 'a stream that fails',
        stream: () =>
          new Readable({
            read() {
              this.push('first part\n');
              setTimeout(() => this.destroy(new Error('generator failed')), 20);
            },
          }),
      };
    }
    if (request.path === '/text') return { status: 503, body: 'plain <b>text</b>', contentType: 'text/html', summary: 'raw' };
    if (request.path === '/echo') return { status: 200, body: { baseUrl: request.baseUrl }, summary: 'echo' };
    if (request.path === '/throws') {
      return {
        status: 200,
        body: undefined,
        summary: 'a stream that cannot open',
        stream: () => {
          throw new Error('cannot open');
        },
      };
    }
    return undefined;
  },
};

describe('local sandbox over HTTP', () => {
  const lines: string[] = [];
  const sandbox = new Sandbox((line) => lines.push(line), { braze: braze.sandbox!, failing });
  const saved = process.env[ENV];

  beforeAll(() => sandbox.start());
  afterAll(() =>
    stopAll(
      () => sandbox.stop(),
      () => {
        if (saved === undefined) delete process.env[ENV];
        else process.env[ENV] = saved;
      },
    ),
  );

  const brazeUrl = () => sandbox.url('braze');

  async function startExport(fields: string[]): Promise<{ object_prefix: string; url: string }> {
    const response = await fetch(`${brazeUrl()}/users/export/segment`, {
      method: 'POST',
      headers: { authorization: 'Bearer sandbox-key', 'content-type': 'application/json' },
      body: JSON.stringify({ segment_id: 'sandbox-all-users', fields_to_export: fields, output_format: 'zip' }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { object_prefix: string; url: string };
  }

  it('hands each answer the partner URL prefix', async () => {
    const response = await fetch(`${sandbox.url('failing')}/echo`);
    expect(await response.json()).toEqual({ baseUrl: sandbox.url('failing') });
  });

  it('pages segments, exports one and serves the ZIP at the URL it gave, 404 first', async () => {
    process.env[ENV] = '7000';
    const page0 = (await (await fetch(`${brazeUrl()}/segments/list?page=0&sort_direction=asc`, { headers: { authorization: 'Bearer k' } })).json()) as {
      segments: unknown[];
    };
    expect(page0.segments).toHaveLength(3);
    const page1 = (await (await fetch(`${brazeUrl()}/segments/list?page=1&sort_direction=asc`)).json()) as { message: string; segments: unknown[] };
    expect(page1).toEqual({ message: 'success', segments: [] });

    const { url, object_prefix } = await startExport(['email']);
    expect(url).toBe(`${brazeUrl()}/_exports/${object_prefix}.zip`);

    const notReady = await fetch(url);
    expect(notReady.status).toBe(404);
    expect(notReady.headers.get('content-type')).toBe('application/xml');
    expect(await notReady.text()).toContain('NoSuchKey');

    const ready = await fetch(url);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toBe('application/zip');
    const files = unzipSync(new Uint8Array(await ready.arrayBuffer()));
    expect(Object.keys(files)).toEqual(['sandbox-all-users-part-0.txt', 'sandbox-all-users-part-1.txt']);
    expect(Object.values(files).map((data) => Buffer.from(data).toString('utf8').split('\n').length - 1)).toEqual([5_000, 2_000]);

    // One line per request, counts only.
    expect(lines).toEqual(
      expect.arrayContaining([
        'sandbox braze GET /segments/list?page=0&sort_direction=asc -> 200 3 segment(s)',
        'sandbox braze POST /users/export/segment -> 201 export of sandbox-all-users (7000 users)',
        `sandbox braze GET /_exports/${object_prefix}.zip -> 404 export not ready yet`,
        `sandbox braze GET /_exports/${object_prefix}.zip -> 200 zip of 7000 users in 2 file(s)`,
      ]),
    );
    expect(lines.join('\n')).not.toContain('@example.com');
  });

  it('streams a 500,000-user ZIP only as fast as the client reads it, and stops when the client goes away', async () => {
    process.env[ENV] = '500000';
    const { url, object_prefix: id } = await startExport(['email', 'first_name', 'last_name', 'country', 'language', 'custom_attributes']);
    expect((await fetch(url)).status).toBe(404);
    const req = httpRequest(url);
    const response = await new Promise<IncomingMessage>((resolve, reject) => req.once('response', resolve).once('error', reject).end());
    expect(response.statusCode).toBe(200);
    let received = 0;
    await new Promise<void>((resolve) => {
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= 64 * 1024) {
          response.pause();
          resolve();
        }
      });
    });
    // The server fills every buffer between it and the paused client, then stops generating.
    const whilePaused = await settledProgress(id);
    // Generation stalls while the client does not read. What it got to is what the buffers between
    // the two hold: a few chunks in Node, and the loopback socket's, which Linux grows to several MB
    // (~125,000 users here); the unit test bounds the stream itself to a few thousand users.
    expect(whilePaused).toBeGreaterThan(0);
    expect(whilePaused).toBeLessThan(300_000);

    req.destroy();
    const afterClose = await settledProgress(id);
    expect(afterClose).toBeLessThan(300_000);
  });

  it('serves every user to a client that reads to the end, in files of 5,000', async () => {
    // 500,000 users take ~15 s here; `npm run bench` streams that many through the sync.
    process.env[ENV] = '20000';
    const { url } = await startExport(['email']);
    expect((await fetch(url)).status).toBe(404);
    const response = await fetch(url);
    expect(response.status).toBe(200);

    const files: string[] = [];
    let lines = 0;
    const unzip = new Unzip((file) => {
      files.push(file.name);
      file.ondata = (error, data) => {
        if (error) throw error;
        for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1)) lines++;
      };
      file.start();
    });
    unzip.register(UnzipInflate);
    for await (const chunk of response.body!) unzip.push(chunk);
    unzip.push(new Uint8Array(0), true);

    expect(files).toHaveLength(4);
    expect(files[3]).toBe('sandbox-all-users-part-3.txt');
    expect(lines).toBe(20_000);
  });

  it('destroys the response when the stream fails, after what it had sent', async () => {
    const response = await fetch(`${sandbox.url('failing')}/broken`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain');
    await expect(response.text()).rejects.toThrow();
    // The sandbox still answers.
    expect((await fetch(`${sandbox.url('failing')}/echo`)).status).toBe(200);
  });

  it('answers 500 when a stream cannot be opened, and goes on answering', async () => {
    const response = await fetch(`${sandbox.url('failing')}/throws`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'sandbox error' });
    expect(lines.at(-1)).toMatch(/-> 500 \(cannot open\)$/);
    expect((await fetch(`${sandbox.url('failing')}/echo`)).status).toBe(200);
  });

  it('sends a string body as it is under the content-type the answer gives', async () => {
    const response = await fetch(`${sandbox.url('failing')}/text`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(await response.text()).toBe('plain <b>text</b>');
  });
});

describe('local sandbox: the request bodies it keeps', () => {
  const small = new Sandbox(() => undefined, { braze: braze.sandbox! }, { keepBodies: 2 });
  const usual = new Sandbox(() => undefined, { braze: braze.sandbox! });

  beforeAll(async () => {
    await small.start();
    await usual.start();
  });
  afterAll(() =>
    stopAll(
      () => small.stop(),
      () => usual.stop(),
    ),
  );

  const track = (sandbox: Sandbox, n: number) =>
    fetch(`${sandbox.url('braze')}/users/track`, { method: 'POST', body: JSON.stringify({ attributes: [{ external_id: `u-${n}` }] }) }).then((r) =>
      r.arrayBuffer(),
    );

  it('keeps the bodies of the most recent requests only, and every request line', async () => {
    for (let n = 0; n < 4; n++) await track(small, n);

    expect(small.requests).toHaveLength(4);
    expect(small.requests.map((r) => [r.destination, r.method, r.path, typeof r.at])).toEqual(Array(4).fill(['braze', 'POST', '/users/track', 'string']));
    expect(small.requests.map((r) => 'body' in r)).toEqual([false, false, true, true]);
    expect(small.requests[3]?.body).toEqual({ attributes: [{ external_id: 'u-3' }] });
  });

  it('keeps 1,000 bodies by default', async () => {
    for (let n = 0; n < 1_001; n += 50) await Promise.all(Array.from({ length: Math.min(50, 1_001 - n) }, (_, i) => track(usual, n + i)));

    expect(usual.requests).toHaveLength(1_001);
    expect(usual.requests.filter((r) => 'body' in r)).toHaveLength(1_000);
    expect('body' in usual.requests[0]!).toBe(false);
  });
});

describe('local sandbox: the credential headers it masks', () => {
  let sandbox: Sandbox;
  const env: Record<string, string | undefined> = {};

  beforeAll(async () => {
    // The partners' own declarations (secret.headers in functions/<partner>/partner.ts), as npm start passes them.
    ({ sandbox } = await startSandboxFor(partners, env, () => undefined));
  });
  afterAll(() => stopAll(() => sandbox.stop()));

  it.each([
    ['odp', 'v3/events', { 'x-api-key': 'odp-private-key' }],
    ['sendbird', 'v1/notifications', { 'api-token': 'sendbird-api-token' }],
    ['braze', 'users/track', { authorization: 'Bearer braze-rest-key' }],
  ])('masks what %s declares (or any Authorization), and says a credential was presented', async (id, path, headers) => {
    await (await fetch(`${sandbox.url(id)}/${path}`, { method: 'POST', headers: { ...headers, 'x-trace': 'kept' }, body: '{}' })).arrayBuffer();

    const recorded = sandbox.requests.at(-1)!;
    const [name, value] = Object.entries(headers)[0]!;
    expect(recorded.authenticated).toBe(true);
    expect(recorded.headers[name]).toMatch(/^(Bearer )?\*\*\*\*$/);
    expect(JSON.stringify(recorded)).not.toContain(value.replace(/^Bearer /, ''));
    expect(recorded.headers['x-trace']).toBe('kept');
  });

  it('does not mask a header no partner declares', async () => {
    const bare = new Sandbox(() => undefined, { odp: partners.find((p) => p.id === 'odp')!.sandbox! });
    await bare.start();
    try {
      await (await fetch(`${bare.url('odp')}/v3/events`, { method: 'POST', headers: { 'x-api-key': 'undeclared' }, body: '{}' })).arrayBuffer();
      expect(bare.requests[0]?.headers['x-api-key']).toBe('undeclared');
      expect(bare.requests[0]?.authenticated).toBe(false);
    } finally {
      await bare.stop();
    }
  });
});
