import { createHmac } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { safeEqual } from '../../../functions/core/auth';
import type { AuthScheme } from '../../../functions/core/catalogue-types';
import { loadConfig } from '../../../functions/core/config';
import { createQueuedIngress, type HttpEvent, type SignatureVerifier } from '../../../functions/core/ingress';
import { createLogger, createMetrics } from '../../../functions/core/observability';
import { MESSAGE_ID_ATTRIBUTE, type OutgoingMessage, QueueSender } from '../../../functions/core/queue';
import { EnvSecretStore } from '../../../functions/core/secrets';

const TOKEN = 'inbound-token-42';
const API_TOKEN = 'partner-api-token';

/** Records what it is asked to enqueue; can be told to fail after the first batch, as SQS may. */
class RecordingQueue extends QueueSender {
  readonly sent: OutgoingMessage[][] = [];
  failAfterFirst = false;

  constructor() {
    super(new SQSClient({ region: 'eu-west-1' }));
  }

  override async sendAll(_queueUrl: string, messages: readonly OutgoingMessage[]): Promise<string[]> {
    if (this.failAfterFirst) {
      this.sent.push(messages.slice(0, 1));
      throw new Error('SQS unavailable after the first batch');
    }
    this.sent.push([...messages]);
    return messages.map((_, i) => `mid-${i}`);
  }
}

const context = { awsRequestId: 'aws-1', functionName: 'f', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

function event(options: { headers?: Record<string, string>; query?: Record<string, string>; body?: string; base64?: boolean }): HttpEvent {
  const body = options.body ?? JSON.stringify({ items: ['a', 'b', 'c'] });
  return {
    version: '2.0',
    routeKey: 'POST /test',
    rawPath: '/test',
    rawQueryString: '',
    headers: options.headers ?? {},
    queryStringParameters: options.query,
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: { requestId: 'req-1', http: { method: 'POST', path: '/test' } },
  } as unknown as HttpEvent;
}

/** Hex HMAC-SHA256 of the raw bytes, keyed with the partner's API token (Sendbird's scheme). */
const verifier: SignatureVerifier = async (rawBytes, headers, secrets) => {
  const given = headers['x-test-signature'];
  const key = (await secrets.get('test-partner')).api_token;
  if (!given || !key) return false;
  return safeEqual(given, createHmac('sha256', key).update(rawBytes).digest('hex'));
};

function ingress(auth: AuthScheme[], queue = new RecordingQueue()) {
  const config = loadConfig({ LOG_LEVEL: 'SILENT', QUEUE_URL: 'https://sqs.test/queue', INBOUND_TOKEN: TOKEN, TEST_PARTNER_API_TOKEN: API_TOKEN });
  const logger = createLogger(config, 'auth-test');
  const handler = createQueuedIngress(
    {
      flow: { id: 'auth-test', source: 'test-partner', auth, limits: { maxRecords: 10, recordsField: 'items', maxDepth: 4 } },
      schema: z.object({ items: z.array(z.string()) }),
      verifySignature: auth.includes('signature') ? verifier : undefined,
      toMessages: ({ body }) => ({ accepted: body.items.length, messages: body.items.map((item) => ({ body: JSON.stringify({ item }) })) }),
    },
    { config, logger, metrics: createMetrics('auth-test', logger), secrets: EnvSecretStore.fromConfig(config), queue },
  );
  return { handler: (e: HttpEvent) => handler(e, context), queue };
}

describe('each route accepts only the auth schemes its catalogue entry names', () => {
  beforeAll(() => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  });

  it('accepts the bearer header on a bearer-only route', async () => {
    const { handler, queue } = ingress(['bearer']);

    const result = await handler(event({ headers: { authorization: `Bearer ${TOKEN}` } }));

    expect(result.statusCode).toBe(202);
    expect(queue.sent.flat()).toHaveLength(3);
  });

  it('refuses the right token in the query string on a bearer-only route, saying how to send it, and enqueues nothing', async () => {
    const { handler, queue } = ingress(['bearer']);

    const result = await handler(event({ query: { token: TOKEN } }));

    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body ?? '{}').error).toBe('this route takes its credentials in an Authorization: Bearer header');
    expect(queue.sent).toEqual([]);
  });

  it('accepts the query token where the route declares it (senders that can only set a URL)', async () => {
    const { handler } = ingress(['bearer', 'query']);

    expect((await handler(event({ query: { token: TOKEN } }))).statusCode).toBe(202);
    expect((await handler(event({ query: { token: 'wrong' } }))).statusCode).toBe(401);
  });

  it('refuses a bearer token on a signature-only route', async () => {
    const { handler, queue } = ingress(['signature']);

    const result = await handler(event({ headers: { authorization: `Bearer ${TOKEN}` } }));

    expect(result.statusCode).toBe(401);
    expect(queue.sent).toEqual([]);
  });

  it('checks the signature over the raw bytes as they arrived, base64 bodies included', async () => {
    const { handler } = ingress(['bearer', 'signature']);
    // Same JSON as the default body, but spaced: a signature over a re-serialised body would differ.
    const raw = '{ "items" : [ "a", "b", "c" ] }';
    const signature = createHmac('sha256', API_TOKEN).update(Buffer.from(raw)).digest('hex');

    expect((await handler(event({ body: raw, headers: { 'x-test-signature': signature } }))).statusCode).toBe(202);
    expect((await handler(event({ body: raw, base64: true, headers: { 'x-test-signature': signature } }))).statusCode).toBe(202);
    expect((await handler(event({ body: `${raw} `, headers: { 'x-test-signature': signature } }))).statusCode).toBe(401);
  });

  it('refuses to build a route with no scheme, or a signature scheme without a verifier', () => {
    expect(() => ingress([])).toThrow('at least one auth scheme');
    const config = loadConfig({ QUEUE_URL: 'https://sqs.test/queue' });
    const logger = createLogger(config, 'x');
    expect(() =>
      createQueuedIngress(
        {
          flow: { id: 'x', source: 'p', auth: ['signature'], limits: { maxRecords: 1, maxDepth: 4 } },
          schema: z.object({}),
          toMessages: () => ({ accepted: 0, messages: [] }),
        },
        { config, logger, metrics: createMetrics('x', logger), secrets: EnvSecretStore.fromConfig(config), queue: new RecordingQueue() },
      ),
    ).toThrow('needs a verifier');
  });
});

describe('deterministic message ids', () => {
  it('gives a retried request the same ids, so a partial enqueue followed by a retry is recognised downstream', async () => {
    const failing = new RecordingQueue();
    failing.failAfterFirst = true;
    const first = await ingress(['bearer'], failing).handler(event({ headers: { authorization: `Bearer ${TOKEN}` } }));
    const retry = ingress(['bearer']);
    const second = await retry.handler(event({ headers: { authorization: `Bearer ${TOKEN}` } }));

    expect(first.statusCode).toBe(500);
    expect(second.statusCode).toBe(202);
    const partialIds = failing.sent.flat().map((m) => m.attributes?.[MESSAGE_ID_ATTRIBUTE]);
    const retriedIds = retry.queue.sent.flat().map((m) => m.attributes?.[MESSAGE_ID_ATTRIBUTE]);
    expect(partialIds).toHaveLength(1);
    expect(retriedIds).toHaveLength(3);
    expect(new Set(retriedIds).size).toBe(3);
    expect(retriedIds[0]).toBe(partialIds[0]);
  });

  it('gives a different request different ids', async () => {
    const a = ingress(['bearer']);
    const b = ingress(['bearer']);
    await a.handler(event({ headers: { authorization: `Bearer ${TOKEN}` } }));
    await b.handler(event({ headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ items: ['a', 'b', 'd'] }) }));

    const idsOf = (q: RecordingQueue) => q.sent.flat().map((m) => m.attributes?.[MESSAGE_ID_ATTRIBUTE]);
    expect(idsOf(a.queue)[0]).not.toBe(idsOf(b.queue)[0]);
  });
});
