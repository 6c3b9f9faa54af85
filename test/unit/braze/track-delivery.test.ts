import type { Context, SQSBatchResponse } from 'aws-lambda';
import { build } from '../../../functions/braze/track-delivery';
import { catalogue, entryFor } from '../../../functions/catalogue';
import { loadConfig } from '../../../functions/core/config';
import type { DedupeStore } from '../../../functions/core/dedupe';
import { createDeps } from '../../../functions/core/deps';
import { HttpClient } from '../../../functions/core/http';
import type { SecretStore } from '../../../functions/core/secrets';
import type { TrackMessage } from '../../../functions/core/track-queue';
import { reply, scriptedFetch, sqsRecord } from '../helpers';

const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'a', functionName: 'f' } as unknown as Context;
const nothingDelivered: DedupeStore = {
  claim: async (keys) => ({ claimed: new Set(keys), delivered: new Set(), inFlight: new Set() }),
  confirm: async () => undefined,
  release: async () => undefined,
};
const message: TrackMessage = {
  v: 1,
  flow: 'lytics-audiences',
  requestId: 'r-1',
  items: [{ kind: 'attributes', object: { external_id: 'u-1', tier: 'gold' } }],
};

/** One /users/track lane's consumer (its function's flow names the queue), against a scripted Braze. */
function lane(flowId: 'braze-track-delivery' | 'braze-track-bulk-delivery') {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const { fetch, requests } = scriptedFetch(reply(201, '{"message":"success","attributes_processed":1}'));
  const secrets: SecretStore = { get: async () => ({ api_key: 'braze-key' }), inboundTokens: async () => [], refresh: async () => undefined };
  const config = loadConfig({ LOG_LEVEL: 'SILENT', BRAZE_REST_ENDPOINT: 'https://rest.braze.test', DLQ_URL: 'https://sqs.test/dlq' });
  const deps = createDeps(flowId, config, { secrets, dedupe: nothingDelivered, http: new HttpClient({ fetch }) });
  return { handler: build(deps, entryFor(catalogue.queues, flowId)), requests };
}

describe('Braze /users/track lanes: X-Braze-Bulk', () => {
  it("marks the bulk lane's calls (backfills) X-Braze-Bulk: true, as Braze's own importer does", async () => {
    const { handler, requests } = lane('braze-track-bulk-delivery');

    const result = (await handler({ Records: [sqsRecord('m-1', JSON.stringify(message))] }, context)) as SQSBatchResponse;

    expect(result.batchItemFailures).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe('https://rest.braze.test/users/track');
    expect(requests[0]!.headers['x-braze-bulk']).toBe('true');
  });

  it("never marks the realtime lane's calls", async () => {
    const { handler, requests } = lane('braze-track-delivery');

    await handler({ Records: [sqsRecord('m-1', JSON.stringify(message))] }, context);

    expect(requests).toHaveLength(1);
    expect(requests[0]!.headers).not.toHaveProperty('x-braze-bulk');
    expect(requests[0]!.headers.authorization).toBe('Bearer braze-key');
  });
});
