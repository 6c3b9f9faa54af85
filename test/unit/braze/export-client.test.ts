/**
 * The Braze export client against the Braze sandbox (functions/braze/sandbox.ts, as `npm start`
 * answers), reached through a fetch that hands each request to the sandbox's answer function: no
 * server. Faults that the sandbox does not give (a 401, an answer of the wrong shape, an export
 * written to cloud storage) come from a scripted fetch.
 */
import { Readable } from 'node:stream';
import { BrazeExportClient } from '../../../functions/braze/export-client';
import { brazeSandboxAnswer, SANDBOX_SEGMENTS } from '../../../functions/braze/sandbox';
import { ConfigError, DestinationConfigError, PermanentDeliveryError, ValidationError } from '../../../functions/core/errors';
import { HttpClient } from '../../../functions/core/http';
import { readExportLines } from '../../../functions/odp/export-reader';
import { FakeClock, networkFailure, type RecordedRequest, rejectionOf, reply, scriptedFetch } from '../helpers';

const BASE = 'http://braze.sandbox.test/braze';
const DEADLINE = Number.POSITIVE_INFINITY;
const FIELDS = ['external_id', 'braze_id', 'email'];

/** A fetch answered by the Braze sandbox, recording what it was asked. */
function sandboxFetch(requests: RecordedRequest[] = []): typeof fetch {
  return async (input, init) => {
    const url = String(input);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = typeof init?.body === 'string' ? init.body : undefined;
    requests.push({ url, method: init?.method, headers, body });
    const answer = brazeSandboxAnswer({ method: init?.method ?? 'GET', path: url.slice(BASE.length), body: body && JSON.parse(body), baseUrl: BASE });
    if (!answer) return new Response('', { status: 404 });
    if (answer.stream) return new Response(Readable.toWeb(Readable.from(answer.stream())) as ReadableStream, { status: answer.status });
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return new Response(text, { status: answer.status, headers: { 'content-type': answer.contentType ?? 'application/json' } });
  };
}

const clientWith = (fetchImpl: typeof fetch) =>
  new BrazeExportClient({
    endpoint: BASE,
    apiKey: async () => 'braze-key',
    http: new HttpClient({ clock: new FakeClock(), fetch: fetchImpl, policy: { retries: 2, baseDelayMs: 1, maxDelayMs: 10, timeoutMs: 1_000 } }),
    download: fetchImpl,
  });

const signal = () => new AbortController().signal;

describe('BrazeExportClient against the Braze sandbox', () => {
  it('lists the segments as Braze pages them, with the REST key as a Bearer token', async () => {
    const requests: RecordedRequest[] = [];
    const segments = await clientWith(sandboxFetch(requests)).listSegments(DEADLINE);

    expect(segments).toEqual(SANDBOX_SEGMENTS.map(({ id, name }) => ({ id, name })));
    expect(requests.map((r) => r.url)).toEqual([`${BASE}/segments/list?page=0&sort_direction=asc`]);
    expect(requests[0]!.headers.authorization).toBe('Bearer braze-key');
  });

  it('asks for a zip export of the fields and opens its download: not there at first, then the users', async () => {
    const requests: RecordedRequest[] = [];
    const client = clientWith(sandboxFetch(requests));

    const url = await client.requestExport('sandbox-vip', FIELDS, DEADLINE);
    const first = await client.openExport(url, signal());
    const second = await client.openExport(url, signal());

    expect(JSON.parse(requests[0]!.body!)).toEqual({ segment_id: 'sandbox-vip', fields_to_export: FIELDS, output_format: 'zip' });
    expect(url).toMatch(new RegExp(`^${BASE}/_exports/`));
    expect(first).toBe('missing');
    if (typeof second === 'string') throw new Error(`the export should be ready, got ${second}`);
    let users = 0;
    for await (const line of readExportLines(second)) users += JSON.parse(line.text).external_id ? 1 : 0;
    expect(users).toBe(120);
  });

  it("passes on the sandbox's 400 for a segment Braze does not have as a refusal", async () => {
    const error = await rejectionOf(PermanentDeliveryError, clientWith(sandboxFetch()).requestExport('no-such-segment', FIELDS, DEADLINE));
    expect(error.status).toBe(400);
  });
});

describe('BrazeExportClient: what a fault means', () => {
  it('reads every page until one holds fewer than 100 segments', async () => {
    const page = (from: number, count: number) =>
      reply(200, JSON.stringify({ segments: Array.from({ length: count }, (_, i) => ({ id: `s${from + i}`, name: `S ${from + i}` })) }));
    const { fetch, requests } = scriptedFetch(page(0, 100), page(100, 100), page(200, 30));

    const segments = await clientWith(fetch).listSegments(DEADLINE);

    expect(segments).toHaveLength(230);
    expect(requests.map((r) => new URL(r.url).searchParams.get('page'))).toEqual(['0', '1', '2']);
  });

  it('a 401 or 403 is a fault of the key (DestinationConfigError), not a refused request, and is not retried', async () => {
    for (const status of [401, 403]) {
      const { fetch, requests } = scriptedFetch(reply(status, '{"message":"Invalid API key"}'));
      const error = await rejectionOf(DestinationConfigError, clientWith(fetch).listSegments(DEADLINE));
      expect(error.status).toBe(status);
      expect(requests).toHaveLength(1);
    }
  });

  it('an answer that is not a segment list fails naming the page', async () => {
    const { fetch } = scriptedFetch(reply(200, '{"message":"success"}'));
    const error = await rejectionOf(ValidationError, clientWith(fetch).listSegments(DEADLINE));
    expect(error.message).toBe('Braze /segments/list page 0: not a segment list (segments[].id and .name expected)');
  });

  it('an export written to the cloud storage configured in Braze (no url) is a configuration fault naming the segment', async () => {
    const { fetch } = scriptedFetch(reply(201, '{"message":"success","object_prefix":"p","url":null}'));
    const error = await rejectionOf(ConfigError, clientWith(fetch).requestExport('seg-1', FIELDS, DEADLINE));
    expect(error.message).toMatch(/^Braze wrote the export of segment seg-1 to the cloud storage configured in Braze/);
  });

  it('a download answering 403 or 404 is missing; 429, 5xx or no answer is unavailable; anything else is refused', async () => {
    const opened = async (answer: () => Response) => clientWith(scriptedFetch(answer).fetch).openExport('https://s3.test/x.zip', signal());

    expect(await opened(reply(403))).toBe('missing');
    expect(await opened(reply(404))).toBe('missing');
    expect(await opened(reply(429))).toBe('unavailable');
    expect(await opened(reply(503))).toBe('unavailable');
    expect(await opened(networkFailure())).toBe('unavailable');
    const error = await rejectionOf(PermanentDeliveryError, opened(reply(410)));
    expect(error.message).toBe('the export download answered 410');
  });
});
