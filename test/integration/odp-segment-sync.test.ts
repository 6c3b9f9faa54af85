/**
 * The nightly ODP segment sync (seed 004) over real HTTP on loopback: a Braze stand-in that lists
 * segments on several pages, exports them as zips of newline-delimited JSON (not ready at the
 * first check, as Braze's URL is not), and an ODP stand-in taking /v3/profiles. Time is a fake
 * clock: the 10-calls-per-second pacing and the export waits are checked without sleeping.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { StubServer } from '../../bench/support/stub-server';
import { catalogue } from '../../functions/catalogue';
import type { JobStepResult } from '../../functions/core/catalogue-types';
import { loadConfig } from '../../functions/core/config';
import { createDeps } from '../../functions/core/deps';
import { HttpClient } from '../../functions/core/http';
import type { JobStateStore } from '../../functions/core/job-state';
import { EnvSecretStore } from '../../functions/core/secrets';
import { build, type SyncState } from '../../functions/odp/segment-sync';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../local/embedded-dynamodb';
import { runScheduledJob } from '../../local/run-scheduled-job';
import { exportZip } from '../support/braze-export';
import { stopAll } from '../support/teardown';
import { FakeClock } from '../unit/helpers';

/** The flow the job's logs, metrics and saved state carry. */
const FLOW_ID = catalogue.job('odp-segment-sync').flowId;

const SEGMENT_COUNT = 230; // three pages of /segments/list
const segmentId = (i: number) => `seg-${String(i).padStart(3, '0')}`;
const segmentName = (i: number) => `Segment ${String(i).padStart(3, '0')}`;
/** Users per exported segment; the others export 10. */
const SIZES: Record<string, number> = { 'seg-007': 1_234, 'seg-123': 6_000 };

interface BrazeStub {
  url: string;
  listPages: number[];
  exports: { segment_id: string; fields_to_export: string[]; output_format: string }[];
  downloads: string[];
  /** Export ids whose URL answers 404 forever. */
  neverReady: Set<string>;
  server: Server;
}

async function startBrazeStub(): Promise<BrazeStub> {
  const stub = { listPages: [], exports: [], downloads: [], neverReady: new Set<string>() } as unknown as BrazeStub;
  const checks = new Map<string, number>();
  const zips = new Map<string, Buffer>();
  stub.server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://stub');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/segments/list') {
      if (req.headers.authorization !== 'Bearer braze-key') return json(401, { message: 'Invalid API key' });
      const page = Number(url.searchParams.get('page'));
      stub.listPages.push(page);
      const ids = Array.from({ length: SEGMENT_COUNT }, (_, i) => i).slice(page * 100, page * 100 + 100);
      return json(200, {
        message: 'success',
        segments: ids.map((i) => ({ id: segmentId(i), name: segmentName(i), analytics_tracking_enabled: false, tags: [] })),
      });
    }
    if (req.method === 'POST' && url.pathname === '/users/export/segment') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BrazeStub['exports'][number];
      stub.exports.push(body);
      return json(201, {
        message: 'success',
        object_prefix: `prefix-${body.segment_id}`,
        url: `${stub.url}/exports/${body.segment_id}.zip?X-Amz-Signature=secret`,
      });
    }
    const download = /^\/exports\/([^/]+)\.zip$/.exec(url.pathname);
    if (req.method === 'GET' && download) {
      const id = download[1]!;
      stub.downloads.push(id);
      const seen = (checks.get(id) ?? 0) + 1;
      checks.set(id, seen);
      if (seen === 1 || stub.neverReady.has(id)) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        return res.end('<Error><Code>NoSuchKey</Code></Error>');
      }
      let zip = zips.get(id);
      if (!zip) {
        zip = exportZip(SIZES[id] ?? 10, 2_000);
        zips.set(id, zip);
      }
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(zip.length) });
      return res.end(zip);
    }
    json(404, { message: 'not found' });
  });
  await new Promise<void>((resolve) => stub.server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(stub.server.address() as AddressInfo).port}`;
  return stub;
}

const profilesOf = (odp: StubServer) =>
  odp.requests.filter((r) => r.path === '/v3/profiles' && r.method === 'POST').map((r) => r.body as { attributes: Record<string, unknown> }[]);

const context = (remainingMs = 900_000) => ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

describe('odp-segment-sync: Braze segments -> ODP profiles', () => {
  let braze: BrazeStub;
  let odp: StubServer;
  let odpUrl: string;
  let dynamo: EmbeddedDynamo;
  let odpAnswer: (index: number, body: { attributes: Record<string, unknown> }[]) => { status: number; body?: unknown };

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    braze = await startBrazeStub();
    odp = new StubServer((request, index) => odpAnswer(index, request.body as { attributes: Record<string, unknown> }[]));
    odpUrl = await odp.start();
  });

  afterAll(() =>
    stopAll(
      () => odp?.stop(),
      () =>
        new Promise<void>((resolve) => {
          if (!braze?.server) return resolve();
          braze.server.closeAllConnections();
          braze.server.close(() => resolve());
        }),
      () => dynamo?.stop(),
    ),
  );

  beforeEach(() => {
    odp.requests.length = 0;
    braze.listPages.length = 0;
    braze.exports.length = 0;
    braze.downloads.length = 0;
    odpAnswer = () => ({ status: 202, body: { title: 'Accepted' } });
  });

  const env = (extra: Record<string, string> = {}) => ({
    BRAZE_REST_ENDPOINT: braze.url,
    BRAZE_API_KEY: 'braze-key',
    ODP_API_URL: odpUrl,
    ODP_API_KEY: 'odp-key',
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...extra,
  });

  /** A step as Lambda would run it: deps from the environment, a fake clock, a fast retry policy. */
  const stepFor = (clock: FakeClock, store: JobStateStore, extra: Record<string, string> = {}, onProgress?: () => void) => {
    const config = loadConfig(env(extra));
    const deps = createDeps(FLOW_ID, config, {
      secrets: EnvSecretStore.fromConfig(config),
      clock,
      http: new HttpClient({ clock, policy: { retries: 3, baseDelayMs: 10, maxDelayMs: 100, timeoutMs: 5_000 } }),
    });
    return build(deps, { store, onProgress });
  };

  /** Runs steps as the state machine does until `done` (a `wait` moves the fake clock on). */
  async function runToEnd(step: ReturnType<typeof stepFor>, runId: string, clock: FakeClock, remainingMs?: number): Promise<{ results: JobStepResult[] }> {
    const results: JobStepResult[] = [];
    for (let i = 0; i < 500; i++) {
      const result = await step({ runId }, context(remainingMs));
      results.push(result);
      if (result.status === 'done') return { results };
      if (result.status === 'wait') clock.current += result.waitSeconds * 1000;
    }
    throw new Error('the run never finished');
  }

  it('runs once through the local command: every list page, the selected segments by id and by name, 500 per call, 10 calls per second', async () => {
    const clock = new FakeClock();
    const started: number[] = [];
    const http = new HttpClient({
      clock,
      policy: { retries: 3, baseDelayMs: 10, maxDelayMs: 100, timeoutMs: 5_000 },
      fetch: (input, init) => {
        if (String(input).endsWith('/v3/profiles')) started.push(clock.now());
        return fetch(input, init);
      },
    });
    const lines: string[] = [];
    const figures = await runScheduledJob({
      job: 'odp-segment-sync',
      env: env({ ODP_SEGMENTS: 'seg-007, segment 123', ODP_FIELD_MAPPINGS: '{"first_name":"first_name","custom_attributes.loyalty_tier":"loyalty_tier"}' }),
      http,
      clock,
      log: (line) => lines.push(line),
    });

    expect(braze.listPages).toEqual([0, 1, 2]);
    expect(braze.exports.map((e) => e.segment_id)).toEqual(['seg-007', 'seg-123']);
    expect(braze.exports[0]).toMatchObject({ output_format: 'zip', fields_to_export: ['external_id', 'braze_id', 'email', 'first_name', 'custom_attributes'] });
    // Each export was checked once before it was ready.
    expect(braze.downloads).toEqual(['seg-007', 'seg-007', 'seg-123', 'seg-123']);

    const calls = profilesOf(odp);
    const sent = calls.flat();
    const withEmail = (n: number) => n - Math.floor(n / 10); // every 10th test user has no email
    expect(sent).toHaveLength(withEmail(1_234) + withEmail(6_000));
    expect(Math.max(...calls.map((c) => c.length))).toBe(500);
    expect(calls.length).toBe(Math.ceil(withEmail(1_234) / 500) + Math.ceil(withEmail(6_000) / 500));
    expect(sent[0]).toEqual({ attributes: { email: 'user0@example.com', first_name: 'First0', loyalty_tier: 'gold' } });
    expect(odp.requests.every((r) => r.headers['x-api-key'] === 'odp-key')).toBe(true);

    // No more than 10 calls started in any second (fake time: the pacing slept, nothing else did).
    for (let i = 10; i < started.length; i++) expect(started[i]! - started[i - 10]!).toBeGreaterThanOrEqual(1_000);
    expect(started.length).toBe(calls.length);

    expect(figures.summary).toMatchObject({
      segments: 2,
      usersRead: 1_234 + 6_000,
      profilesSent: sent.length,
      rejected: 0,
      skipped: 123 + 600,
      requests: calls.length,
    });
    expect(figures.waits).toBe(2);
    expect(lines.at(-1)).toMatch(/segments 2, usersRead 7,234, profilesSent 6,511/);
    // The presigned URL (its signature) and the keys never reach the output.
    expect(lines.join('\n')).not.toMatch(/X-Amz-Signature|braze-key|odp-key|@example\.com/);
  });

  it('ODP_SEGMENTS naming no listed segment exports nothing and sends nothing', async () => {
    const clock = new FakeClock();
    const step = stepFor(clock, await dynamo.jobStateStore(), { ODP_SEGMENTS: 'no such segment' });
    const { results } = await runToEnd(step, 'run-none', clock);
    expect(results.at(-1)).toEqual({ runId: 'run-none', status: 'done', summary: expect.objectContaining({ segments: 0, profilesSent: 0 }) });
    expect(braze.exports).toEqual([]);
    expect(odp.requests).toEqual([]);
  });

  it('a segment bigger than one step is split across steps, each resuming where the last stopped: no profile twice', async () => {
    const clock = new FakeClock();
    const store = await dynamo.jobStateStore();
    // 1.5 s of (fake) time per step, 2 calls per second: 3 calls a step, where the segment needs 11.
    const step = stepFor(clock, store, { ODP_SEGMENTS: 'seg-123', ODP_PROFILE_CALLS_PER_SECOND: '2' });
    const { results } = await runToEnd(step, 'run-split', clock, 60_000 + 1_500);
    expect(results.filter((r) => r.status === 'continue').length).toBeGreaterThanOrEqual(3);
    const emails = profilesOf(odp)
      .flat()
      .map((p) => p.attributes.email);
    expect(emails).toHaveLength(5_400);
    expect(new Set(emails).size).toBe(5_400);
  });

  it('after a crash between an accepted call and its checkpoint, the retried step re-sends only that call', async () => {
    const clock = new FakeClock();
    const real = await dynamo.jobStateStore();
    let saves = 0;
    let crashAt: number | undefined;
    // The step dies right after ODP accepted call 5, before it could save (a Lambda killed mid-way).
    const crashing: JobStateStore = {
      load: (job, run) => real.load(job, run),
      save: async (job, run, state) => {
        const s = state as SyncState;
        if (crashAt === undefined && s.totals.requests === 5) {
          crashAt = ++saves;
          throw new Error('Runtime.ExitError');
        }
        saves++;
        return real.save(job, run, state);
      },
    };
    const first = stepFor(clock, crashing, { ODP_SEGMENTS: 'seg-123' });
    await expect(runToEnd(first, 'run-crash', clock)).rejects.toThrow('Runtime.ExitError');
    expect(profilesOf(odp)).toHaveLength(5);

    // Step Functions retries the step: a new Lambda, the same run id, the state saved before the crash.
    const retried = stepFor(clock, real, { ODP_SEGMENTS: 'seg-123' });
    await runToEnd(retried, 'run-crash', clock);
    const calls = profilesOf(odp);
    const emails = calls.flat().map((p) => p.attributes.email as string);
    const unique = new Set(emails);
    expect(unique.size).toBe(5_400); // every profile at least once
    expect(emails.length - unique.size).toBe(500); // and only the batch in flight twice
    expect(calls[5]).toEqual(calls[4]);
    // The download was asked for again, once the run resumed; the export was not.
    expect(braze.exports).toHaveLength(1);
  });

  it('429 and 5xx from ODP are retried; a call ODP refuses is split down to the refused profile, counted, the rest sent', async () => {
    const clock = new FakeClock();
    odpAnswer = (index, body) => {
      if (index === 0) return { status: 503 };
      if (index === 1) return { status: 429, body: { title: 'Too Many Requests' } };
      // ODP refuses any call holding user 42's profile.
      if (body.some((p) => p.attributes.email === 'user42@example.com')) return { status: 400, body: { title: 'Bad Request', detail: { invalids: [] } } };
      return { status: 202 };
    };
    const step = stepFor(clock, await dynamo.jobStateStore(), { ODP_SEGMENTS: 'seg-007' });
    const { results } = await runToEnd(step, 'run-refused', clock);
    const accepted = odp.requests.filter(
      (r, i) => i > 1 && !(r.body as { attributes: { email: string } }[]).some((p) => p.attributes.email === 'user42@example.com'),
    );
    const emails = accepted.flatMap((r) => (r.body as { attributes: { email: string } }[]).map((p) => p.attributes.email));
    expect(new Set(emails).size).toBe(1_111 - 1);
    expect(emails).not.toContain('user42@example.com');
    expect(results.at(-1)).toMatchObject({ status: 'done', summary: { rejected: 1, profilesSent: 1_110 } });
  });

  it('an export that never becomes ready fails the run after ODP_EXPORT_MAX_WAIT_MINUTES, naming the segment', async () => {
    const clock = new FakeClock();
    braze.neverReady.add('seg-042');
    const step = stepFor(clock, await dynamo.jobStateStore(), { ODP_SEGMENTS: 'seg-042', ODP_EXPORT_POLL_SECONDS: '60', ODP_EXPORT_MAX_WAIT_MINUTES: '10' });
    await expect(runToEnd(step, 'run-never', clock)).rejects.toThrow(/segment seg-042: Braze's export was not ready after 10 minutes/);
    expect(braze.downloads.filter((id) => id === 'seg-042').length).toBe(11);
    expect(odp.requests).toEqual([]);
  });

  it('a run that is done stays done: a repeated last step sends nothing more', async () => {
    const clock = new FakeClock();
    const store = await dynamo.jobStateStore();
    const step = stepFor(clock, store, { ODP_SEGMENTS: 'seg-001' });
    const { results } = await runToEnd(step, 'run-twice', clock);
    const sentBefore = odp.requests.length;
    expect(await step({ runId: 'run-twice' }, context())).toEqual(results.at(-1));
    expect(odp.requests.length).toBe(sentBefore);
  });
});
