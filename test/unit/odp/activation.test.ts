import type { Context } from 'aws-lambda';
import { catalogue } from '../../../functions/catalogue';
import { laneQueueVariable } from '../../../functions/core/catalogue-types';
import { loadConfig } from '../../../functions/core/config';
import { createDeps } from '../../../functions/core/deps';
import { ConfigError } from '../../../functions/core/errors';
import type { HttpEvent } from '../../../functions/core/ingress';
import { EnvSecretStore } from '../../../functions/core/secrets';
import { build } from '../../../functions/odp/activation';
import { allowedTargets, isAllowed, parseAllowedTargets } from '../../../functions/odp/allowed-targets';
import { errorThrownBy, RecordingQueue } from '../helpers';

const context = { awsRequestId: 'aws-1', functionName: 'f', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

/** The activation route's handler with the given settings; what it enqueues is recorded. */
function activation(settings: Record<string, string>) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const config = loadConfig({
    LOG_LEVEL: 'SILENT',
    INBOUND_TOKEN: 'odp-inbound',
    QUEUE_URL: 'https://sqs.test/braze-track',
    [laneQueueVariable('braze-triggers')]: 'https://sqs.test/braze-triggers',
    ...settings,
  });
  const queue = new RecordingQueue();
  const handler = build(createDeps('odp-activation', config, { queue, secrets: EnvSecretStore.fromConfig(config) }), catalogue.flow('odp-activation'));
  const post = async (body: unknown) => {
    const event = {
      version: '2.0',
      routeKey: 'POST /optimizely/activation',
      rawPath: '/optimizely/activation',
      headers: { authorization: 'Bearer odp-inbound' },
      body: JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { requestId: 'req-1', http: { method: 'POST', path: '/optimizely/activation' } },
    } as unknown as HttpEvent;
    const result = await handler(event, context);
    return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') as Record<string, unknown> };
  };
  return { post, queue };
}

describe('what an ODP activation may trigger (ODP_ALLOWED_CAMPAIGNS, ODP_ALLOWED_CANVASES)', () => {
  it('reads a comma list of ids or *, and unset as none', () => {
    expect(isAllowed(parseAllowedTargets(' c1 , c2 '), 'c2')).toBe(true);
    expect(isAllowed(parseAllowedTargets('c1,c2'), 'c3')).toBe(false);
    expect(isAllowed(parseAllowedTargets('*'), 'anything')).toBe(true);
    expect(isAllowed(allowedTargets(undefined), 'c1')).toBe(false);
    expect(errorThrownBy(ConfigError, () => parseAllowedTargets(' , ')).message).toContain('comma list');
    expect(errorThrownBy(ConfigError, () => parseAllowedTargets('c1,*')).message).toContain('alone');
  });

  it('with neither setting, triggers no campaign and no Canvas (400 naming the field), and still updates profiles', async () => {
    const { post, queue } = activation({});

    const campaign = await post({ target: 'campaign', campaign_id: 'camp-1', records: [{ external_id: 'u1' }] });
    const canvas = await post({ target: 'canvas', canvas_id: 'canvas-1', records: [{ external_id: 'u1' }] });
    const profile = await post({ target: 'profile', records: [{ external_id: 'u1', fields: { tier: 'gold' } }] });

    expect(campaign).toMatchObject({ status: 400, body: { issues: [{ path: 'campaign_id', message: expect.stringContaining('ODP_ALLOWED_CAMPAIGNS') }] } });
    expect(canvas).toMatchObject({ status: 400, body: { issues: [{ path: 'canvas_id', message: expect.stringContaining('ODP_ALLOWED_CANVASES') }] } });
    expect(profile).toEqual({ status: 202, body: { accepted: 1 } });
    expect(queue.sent).toHaveLength(1);
    expect(JSON.parse(queue.sent[0]!.body)).toMatchObject({ items: [{ kind: 'attributes', object: { external_id: 'u1', tier: 'gold' } }] });
  });

  it('with *, triggers any campaign; a listed Canvas only', async () => {
    const { post, queue } = activation({ ODP_ALLOWED_CAMPAIGNS: '*', ODP_ALLOWED_CANVASES: 'canvas-1' });

    const campaign = await post({ target: 'campaign', campaign_id: 'camp-anything', records: [{ external_id: 'u1' }] });
    const listed = await post({ target: 'canvas', canvas_id: 'canvas-1', records: [{ email: 'ada@example.com' }] });
    const other = await post({ target: 'canvas', canvas_id: 'canvas-2', records: [{ external_id: 'u1' }] });

    expect(campaign.status).toBe(202);
    expect(listed.status).toBe(202);
    expect(other.status).toBe(400);
    expect(queue.sent.map((m) => JSON.parse(m.body).target)).toEqual(['camp-anything', 'canvas-1']);
  });
});
