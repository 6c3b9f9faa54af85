import { ChangeMessageVisibilityBatchCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { catalogue } from '../../../functions/catalogue';
import type { Clock } from '../../../functions/core/clock';
import { loadConfig } from '../../../functions/core/config';
import { createDeps } from '../../../functions/core/deps';
import { HttpClient } from '../../../functions/core/http';
import { QueueSender } from '../../../functions/core/queue';
import { EnvSecretStore } from '../../../functions/core/secrets';
import { build } from '../../../functions/seen/data';
import { SEEN_RATE_WINDOW_MS } from '../../../functions/seen/rate';
import type { SeenDataMessage } from '../../../functions/seen/schemas';
import { FakeClock, logsOf, readFixture, sqsRecord } from '../helpers';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/seen-data';
const DLQ_URL = `${QUEUE_URL}-dlq`;
const DATA_URL = 'https://next.seen.io/v1/projects/p-onboarding/data';
const TOKEN_URL = 'https://next.seen.io/oauth2/token';
const PROJECTS = JSON.stringify({ onboarding: DATA_URL });
const context = { getRemainingTimeInMillis: () => 60_000, awsRequestId: 'r', functionName: 'seen-data' } as unknown as Context;
/** RFC 6749's token answer (SEEN documents the request only): test/fixtures/seen/oauth-token.json. */
const tokenAnswer = (readFixture('seen/oauth-token.json') as { body: { access_token: string; expires_in: number } }).body;

interface SeenRequest {
  at: number;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The SEEN 2.0 consumer over a mocked SQS client (its parked records and waits recorded), `clock`,
 * and a fetch standing in for SEEN: `answer` is asked for each request (data or token).
 */
function consumer(env: Record<string, string>, answer: (request: SeenRequest) => Response, clock: Clock = new FakeClock()) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const sqsMock = mockClient(sqs);
  const parked: string[] = [];
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] }) => {
    if (input.QueueUrl === DLQ_URL) parked.push(...input.Entries.map((entry) => entry.MessageBody));
    return { Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `sent-${entry.Id}` })), Failed: [] };
  });
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({});
  const requests: SeenRequest[] = [];
  const fetch: typeof globalThis.fetch = async (url, init) => {
    const request = { at: clock.now(), url: String(url), headers: Object.fromEntries(new Headers(init?.headers).entries()), body: String(init?.body) };
    requests.push(request);
    return answer(request);
  };
  const config = loadConfig({ LOG_LEVEL: 'SILENT', QUEUE_URL, DLQ_URL, SEEN_API_VERSION: '2', SEEN_PROJECTS: PROJECTS, ...env });
  const deps = createDeps('seen-data-delivery', config, {
    sqs,
    queue: new QueueSender(sqs),
    clock,
    http: new HttpClient({ fetch, clock }),
    secrets: EnvSecretStore.fromConfig(config),
  });
  const handler = build(deps, catalogue.queue('seen-data'));
  const invoke = async (event: SQSEvent) => (await handler(event, context)) as SQSBatchResponse;
  return { invoke, requests, parked };
}

const message = (item: Record<string, unknown> & { id: string }, campaign = 'onboarding'): SeenDataMessage => ({
  v: 1,
  flow: 'seen-receivers',
  api: 2,
  requestId: 'req',
  campaign,
  item,
});
const eventOf = (items: (Record<string, unknown> & { id: string })[], prefix = 'm') =>
  ({
    Records: items.map((item, i) => sqsRecord(`${prefix}${i}`, JSON.stringify(message(item)))),
  }) as SQSEvent;
const data = (requests: SeenRequest[]) => requests.filter((request) => request.url === DATA_URL);
const tokens = (requests: SeenRequest[]) => requests.filter((request) => request.url === TOKEN_URL);
const created = () => new Response(JSON.stringify({ id: 'x' }), { status: 201 });
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('SEEN 2.0 delivery', () => {
  it("posts each receiver on its own, one JSON object with id a string, to its campaign's data URL with the API token as Bearer", async () => {
    const seen = consumer({ SEEN_API_TOKEN: 'seen-api-token' }, created);
    const example = (readFixture('seen/data-webhook.json') as { body: Record<string, unknown> & { id: string } }).body;

    const result = await seen.invoke(eventOf([example, { id: '42', first_name: 'Ada' }]));

    expect(result.batchItemFailures).toEqual([]);
    expect(seen.requests.map((request) => JSON.parse(request.body))).toEqual([example, { id: '42', first_name: 'Ada' }]);
    for (const request of seen.requests) {
      expect(request.url).toBe(DATA_URL);
      expect(request.headers).toMatchObject({ authorization: 'Bearer seen-api-token', 'content-type': 'application/json' });
      expect(typeof JSON.parse(request.body).id).toBe('string');
    }
  });

  it('parks a data item SEEN refuses (400) alone, and waits on a 429 without parking', async () => {
    const seen = consumer({ SEEN_API_TOKEN: 't' }, (request) =>
      request.body.includes('"bad"') ? json(400, { message: 'invalid' }) : request.body.includes('"busy"') ? json(429, {}) : created(),
    );

    const result = await seen.invoke(eventOf([{ id: 'ok' }, { id: 'bad' }]));
    const throttled = await seen.invoke(eventOf([{ id: 'busy' }], 'b'));

    expect(result.batchItemFailures).toEqual([]);
    expect(seen.parked.map((body) => (JSON.parse(body) as SeenDataMessage).item.id)).toEqual(['bad']);
    expect(throttled.batchItemFailures).toEqual([{ itemIdentifier: 'b0' }]);
    expect(seen.parked).toHaveLength(1);
  });

  it('treats a campaign SEEN_PROJECTS no longer maps as a configuration fault: nothing parked, the message waits', async () => {
    const seen = consumer({ SEEN_API_TOKEN: 't' }, created);

    const result = await seen.invoke({ Records: [sqsRecord('m0', JSON.stringify(message({ id: '1' }, 'winback')))] } as SQSEvent);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    expect(seen.parked).toEqual([]);
    expect(seen.requests).toEqual([]);
  });
});

describe('SEEN 2.0 OAuth2 client credentials', () => {
  const oauth = { SEEN_API_TOKEN: 'unused-token', SEEN_OAUTH_CLIENT_ID: 'client-1', SEEN_OAUTH_CLIENT_SECRET: 'client-secret-shh' };

  it('asks one token for many calls (form-encoded client credentials), reuses it until shortly before it expires, then asks again', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const seen = consumer(oauth, (request) => (request.url === TOKEN_URL ? json(200, tokenAnswer) : created()), clock);

    await seen.invoke(eventOf(Array.from({ length: 5 }, (_, i) => ({ id: `u${i}` }))));
    clock.current = start + 30 * 60_000;
    await seen.invoke(eventOf([{ id: 'later' }], 'l'));
    clock.current = start + tokenAnswer.expires_in * 1000;
    await seen.invoke(eventOf([{ id: 'after-expiry' }], 'x'));

    const [first] = tokens(seen.requests);
    expect(first?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(first!.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'client-1',
      client_secret: 'client-secret-shh',
    });
    expect(tokens(seen.requests)).toHaveLength(2);
    expect(data(seen.requests)).toHaveLength(7);
    for (const request of data(seen.requests)) expect(request.headers.authorization).toBe(`Bearer ${tokenAnswer.access_token}`);
  });

  it('fetches a new token once when SEEN answers 401, and delivers with it', async () => {
    let issued = 0;
    const seen = consumer(oauth, (request) => {
      if (request.url === TOKEN_URL) return json(200, { ...tokenAnswer, access_token: `token-${++issued}` });
      return request.headers.authorization === 'Bearer token-1' ? json(401, { message: 'token revoked' }) : created();
    });

    const result = await seen.invoke(eventOf([{ id: 'a' }, { id: 'b' }]));

    expect(result.batchItemFailures).toEqual([]);
    expect(tokens(seen.requests)).toHaveLength(2);
    expect(data(seen.requests).map((request) => request.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2', 'Bearer token-2']);
  });

  it('parks nothing when SEEN keeps refusing fresh tokens or the token endpoint refuses the client: the messages wait', async () => {
    const refusing = consumer(oauth, (request) => (request.url === TOKEN_URL ? json(200, tokenAnswer) : json(401, {})));
    const badClient = consumer(oauth, (request) => (request.url === TOKEN_URL ? json(400, { error: 'invalid_client' }) : created()));

    const refused = await refusing.invoke(eventOf([{ id: 'a' }]));
    const noToken = await badClient.invoke(eventOf([{ id: 'a' }]));

    expect(refused.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    expect(refusing.parked).toEqual([]);
    // A 401, a new token, one more 401; then the core reads the secret afresh and tries once more.
    expect(data(refusing.requests).length).toBeLessThanOrEqual(4);
    expect(noToken.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
    expect(badClient.parked).toEqual([]);
    expect(data(badClient.requests)).toEqual([]);
  });

  it('writes neither the client secret nor a token in any log line', async () => {
    const logs = await logsOf(async () => {
      const seen = consumer({ ...oauth, LOG_LEVEL: 'DEBUG' }, (request) => (request.url === TOKEN_URL ? json(200, tokenAnswer) : json(401, {})));
      await seen.invoke(eventOf([{ id: 'a' }]));
    });

    expect(logs).toContain('seen');
    for (const secret of ['client-secret-shh', tokenAnswer.access_token, 'unused-token']) expect(logs).not.toContain(secret);
  });
});

/**
 * Virtual time for concurrent invocations: `sleep` resolves when `run` moves the clock to it, and
 * `run` moves it to the earliest pending sleep only once everything else is waiting, as time would.
 */
class VirtualClock implements Clock {
  current = Date.UTC(2024, 0, 15, 12, 0, 0);
  private readonly timers: { at: number; order: number; wake: () => void }[] = [];
  private order = 0;

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.timers.push({ at: this.current + ms, order: this.order++, wake }));
  }

  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const finished = work.finally(() => {
      done = true;
    });
    while (!done) {
      for (let i = 0; i < 20 && !done; i++) await new Promise((resolve) => setImmediate(resolve));
      if (done) break;
      this.timers.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = this.timers.shift();
      if (!next) continue;
      this.current = Math.max(this.current, next.at);
      next.wake();
    }
    return finished;
  }
}

/** The most requests that fell inside any half-open window of `windowMs`. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe("SEEN 2.0's rate (100 requests per 10 s), across the event source's concurrent invocations", () => {
  it('never lets 150 receivers make more than 100 requests in any 10 s, with 2 invocations at once, and sends them all in about 15 s', async () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const seen = consumer({ SEEN_API_TOKEN: 't' }, created, clock);
    const batches = Array.from({ length: 15 }, (_, b) =>
      eventOf(
        Array.from({ length: 10 }, (_, i) => ({ id: `u${b * 10 + i}` })),
        `b${b}-`,
      ),
    );
    // What Lambda's event source does with maxConcurrency 2 (the catalogue's): two invocations at a time.
    const lane = async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) expect((await seen.invoke(batch)).batchItemFailures).toEqual([]);
    };

    await clock.run(Promise.all([lane(), lane()]));

    const times = seen.requests.map((request) => request.at);
    expect(new Set(seen.requests.map((request) => JSON.parse(request.body).id)).size).toBe(150);
    expect(times).toHaveLength(150);
    expect(busiestWindow(times, SEEN_RATE_WINDOW_MS)).toBeLessThanOrEqual(100);
    expect(Math.max(...times) - start).toBeLessThan(20_000);
  });

  it('keeps to a lower SEEN_MAX_REQUESTS_PER_10S', async () => {
    const clock = new VirtualClock();
    const seen = consumer({ SEEN_API_TOKEN: 't', SEEN_MAX_REQUESTS_PER_10S: '20' }, created, clock);
    const batches = Array.from({ length: 6 }, (_, b) =>
      eventOf(
        Array.from({ length: 10 }, (_, i) => ({ id: `u${b * 10 + i}` })),
        `b${b}-`,
      ),
    );
    const lane = async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) await seen.invoke(batch);
    };

    await clock.run(Promise.all([lane(), lane()]));

    expect(seen.requests).toHaveLength(60);
    expect(
      busiestWindow(
        seen.requests.map((request) => request.at),
        SEEN_RATE_WINDOW_MS,
      ),
    ).toBeLessThanOrEqual(20);
  });
});
