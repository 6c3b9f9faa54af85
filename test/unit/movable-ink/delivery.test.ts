import type { Context, SQSBatchResponse } from 'aws-lambda';
import { catalogue } from '../../../functions/catalogue';
import { loadConfig } from '../../../functions/core/config';
import type { DedupeStore } from '../../../functions/core/dedupe';
import { createDeps } from '../../../functions/core/deps';
import { HttpClient } from '../../../functions/core/http';
import type { SecretStore } from '../../../functions/core/secrets';
import { build } from '../../../functions/movable-ink/delivery';
import type { MovableInkMessage } from '../../../functions/movable-ink/schemas';
import { reply, scriptedFetch, sqsRecord } from '../helpers';

const message: MovableInkMessage = {
  v: 1,
  flow: 'movable-ink-events',
  requestId: 'r-1',
  call: { type: 'track', event: 'product_viewed', timestamp: 1_701_886_845_000, timezone: 'UTC', user_id: 'u-1' },
  properties: '{"price":1.10}',
};
const nothingDelivered: DedupeStore = {
  claim: async (keys) => ({ claimed: new Set(keys), delivered: new Set(), inFlight: new Set() }),
  confirm: async () => undefined,
  release: async () => undefined,
};
const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'a', functionName: 'f' } as unknown as Context;

function deliveryWith(secret: Record<string, string>) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const { fetch, requests } = scriptedFetch(reply(200, '{}'));
  const secrets: SecretStore = { get: async () => secret, inboundTokens: async () => [], refresh: async () => undefined };
  const config = loadConfig({ LOG_LEVEL: 'SILENT', MOVABLE_INK_API_URL: 'https://collector.example/behavioral/key-1', DLQ_URL: 'https://sqs.test/dlq' });
  const deps = createDeps('movable-ink-delivery', config, { secrets, dedupe: nothingDelivered, http: new HttpClient({ fetch }) });
  return { handler: build(deps, catalogue.queue('movable-ink')), requests };
}

describe('movable-ink delivery', () => {
  it.each([
    ['api_username / api_password', { api_username: 'mi-user', api_password: 'p:ss' }],
    ['username / password, as Movable Ink names them', { username: 'mi-user', password: 'p:ss' }],
  ])('posts the body with Basic credentials from the secret keys %s', async (_keys, secret) => {
    const { handler, requests } = deliveryWith(secret);

    const result = (await handler({ Records: [sqsRecord('m-1', JSON.stringify(message))] }, context)) as SQSBatchResponse;

    expect(result.batchItemFailures).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toBe('https://collector.example/behavioral/key-1');
    expect(requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('mi-user:p:ss').toString('base64')}`);
    expect(requests[0]?.body).toBe(
      '{"type":"track","event":"product_viewed","timestamp":1701886845000,"timezone":"UTC","user_id":"u-1","properties":{"price":1.10}}',
    );
  });
});
