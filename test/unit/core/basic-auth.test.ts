import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { basicPassword } from '../../../functions/core/auth';
import type { AuthScheme } from '../../../functions/core/catalogue-types';
import { loadConfig } from '../../../functions/core/config';
import { createQueuedIngress, type HttpEvent } from '../../../functions/core/ingress';
import { createLogger, createMetrics } from '../../../functions/core/observability';
import { EnvSecretStore } from '../../../functions/core/secrets';
import { RecordingQueue } from '../helpers';

const TOKEN = 'inbound-token-basic';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const context = { awsRequestId: 'aws-1', functionName: 'f', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

function route(auth: AuthScheme[]) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const config = loadConfig({ LOG_LEVEL: 'SILENT', QUEUE_URL: 'https://sqs.test/queue', INBOUND_TOKEN: TOKEN });
  const logger = createLogger(config, 'basic-test');
  const queue = new RecordingQueue();
  const handler = createQueuedIngress(
    {
      flow: { id: 'basic-test', source: 'test-partner', auth, limits: { maxRecords: 1, maxDepth: 4 } },
      schema: z.object({ id: z.string() }),
      toMessages: ({ body }) => ({ accepted: 1, messages: [{ body: JSON.stringify(body) }] }),
    },
    { config, logger, metrics: createMetrics('basic-test', logger), secrets: EnvSecretStore.fromConfig(config), queue },
  );
  const post = async (authorization: string) => {
    const event = {
      version: '2.0',
      routeKey: 'POST /test',
      rawPath: '/test',
      rawQueryString: '',
      headers: { authorization },
      body: JSON.stringify({ id: 'x' }),
      isBase64Encoded: false,
      requestContext: { requestId: 'req-1', http: { method: 'POST', path: '/test' } },
    } as unknown as HttpEvent;
    const result = await handler(event, context);
    return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') as { error?: string } };
  };
  return { post, queue };
}

describe('the basic auth scheme (the inbound token as the password of Authorization: Basic)', () => {
  it('accepts the token as the password, whatever the user name', async () => {
    const { post, queue } = route(['bearer', 'basic']);

    expect((await post(basic('seen', TOKEN))).status).toBe(202);
    expect((await post(basic('', TOKEN))).status).toBe(202);
    expect(queue.sent).toHaveLength(2);
  });

  it('refuses another password, or the token as the user name, and enqueues nothing', async () => {
    const { post, queue } = route(['basic']);

    const wrong = await post(basic('seen', 'not-the-token'));
    const swapped = await post(basic(TOKEN, 'x'));

    expect([wrong.status, swapped.status]).toEqual([401, 401]);
    expect(wrong.body.error).toBe('invalid credentials');
    expect(JSON.stringify([wrong, swapped])).not.toContain(TOKEN);
    expect(queue.sent).toEqual([]);
  });

  it('is not looked at on a route that does not accept it, which says how it takes its token', async () => {
    const { post, queue } = route(['bearer', 'query']);

    const response = await post(basic('seen', TOKEN));

    expect(response.status).toBe(401);
    expect(response.body.error).toContain('an Authorization: Bearer header or the token query parameter');
    expect(queue.sent).toEqual([]);
  });
});

describe('basicPassword', () => {
  it('reads the password after the first colon, which may itself hold colons', () => {
    expect(basicPassword({ authorization: basic('u', 'a:b') })).toBe('a:b');
  });

  it('reads nothing from a Bearer header, a value without a colon, or an empty password', () => {
    expect(basicPassword({ authorization: `Bearer ${TOKEN}` })).toBeUndefined();
    expect(basicPassword({ authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` })).toBeUndefined();
    expect(basicPassword({ authorization: basic('u', '') })).toBeUndefined();
  });
});
