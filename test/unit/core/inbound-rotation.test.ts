import path from 'node:path';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { type IngressFlow, ingressFlows } from '../../../functions/catalogue';
import { laneQueueVariable } from '../../../functions/core/catalogue-types';
import { loadConfig } from '../../../functions/core/config';
import { createDeps, type Deps } from '../../../functions/core/deps';
import type { HttpEvent, HttpResult } from '../../../functions/core/ingress';
import { SecretsManagerStore } from '../../../functions/core/secrets';
import { logsOf, RecordingQueue, routeEvent } from '../helpers';

/**
 * The seen-callback route, as deployed: its inbound token read from Secrets Manager (the real
 * Powertools SecretsProvider over a mocked Secrets Manager client), its version stages included.
 */
const INBOUND_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:BrazePartnerBridge/seen/inbound-AbCdEf';
const flow = ingressFlows.find((f) => f.id === 'seen-callback')!;
const body = JSON.stringify({
  customer_id: '101',
  campaign_slug: 'spring-24',
  landing_page_url: 'https://seen.example/v/1',
  email_thumbnail_url: 'https://seen.example/t/1.jpg',
});
const context = { awsRequestId: 'aws-1', functionName: 'f', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

const client = new SecretsManagerClient({ region: 'eu-west-1' });
const secretsMock = mockClient(client);
/** What Secrets Manager holds for the inbound secret, per version stage; a stage not held answers ResourceNotFoundException. */
let stages: Partial<Record<'AWSCURRENT' | 'AWSPREVIOUS', string>>;

beforeEach(() => {
  stages = {};
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).callsFake((input: { SecretId: string; VersionStage?: string }) => {
    const stage = (input.VersionStage ?? 'AWSCURRENT') as 'AWSCURRENT' | 'AWSPREVIOUS';
    const value = input.SecretId === INBOUND_ARN ? stages[stage] : undefined;
    if (value === undefined) throw new ResourceNotFoundException({ message: `no ${stage} version`, $metadata: {} });
    return { SecretString: value };
  });
});

afterEach(() => jest.restoreAllMocks());

async function route() {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const lanes = Object.fromEntries(['braze-track'].map((id) => [laneQueueVariable(id), `https://sqs.test/${id}`]));
  const env = { LOG_LEVEL: 'INFO', QUEUE_URL: 'https://sqs.test/braze-track', SEEN_INBOUND_SECRET_ID: INBOUND_ARN, ...lanes };
  const config = loadConfig(env);
  const queue = new RecordingQueue();
  const mod = (await import(path.join(__dirname, '../../..', flow.entry))) as {
    build: (deps: Deps, flow: IngressFlow) => (event: HttpEvent, context: Context) => Promise<HttpResult>;
  };
  const handler = mod.build(createDeps(flow.id, config, { queue, secrets: new SecretsManagerStore(config.env, client, 300) }), flow);
  return async (token: string) => {
    const event = routeEvent(flow, { body, token });
    const result = await handler(event, context);
    return { status: result.statusCode, body: result.body ?? '' };
  };
}

describe('a rotated inbound token', () => {
  it('accepts the new token (AWSCURRENT) and the old one (AWSPREVIOUS), and refuses a third', async () => {
    stages = { AWSCURRENT: JSON.stringify({ inbound_token: 'new-token' }), AWSPREVIOUS: JSON.stringify({ inbound_token: 'old-token' }) };
    const post = await route();

    const answers = { new: await post('new-token'), old: await post('old-token'), third: await post('third-token') };

    expect(answers.new.status).toBe(202);
    expect(answers.old.status).toBe(202);
    expect(answers.third).toEqual({ status: 401, body: JSON.stringify({ error: 'invalid credentials' }) });
  });

  it('accepts the new token at once after a rotation its cache has not seen, and the old one still', async () => {
    stages = { AWSCURRENT: JSON.stringify({ inbound_token: 'old-token' }) };
    const post = await route();
    expect((await post('old-token')).status).toBe(202);

    stages = { AWSCURRENT: JSON.stringify({ inbound_token: 'new-token' }), AWSPREVIOUS: JSON.stringify({ inbound_token: 'old-token' }) };
    const afterRotation = { new: await post('new-token'), old: await post('old-token'), third: await post('third-token') };

    expect(afterRotation.new.status).toBe(202);
    expect(afterRotation.old.status).toBe(202);
    expect(afterRotation.third.status).toBe(401);
  });

  it('refuses every token once the old one is rotated out (the secret has no previous version)', async () => {
    stages = { AWSCURRENT: JSON.stringify({ inbound_token: 'new-token' }) };
    const post = await route();

    expect((await post('old-token')).status).toBe(401);
    expect((await post('new-token')).status).toBe(202);
  });
});

describe('an inbound secret stored as plain text', () => {
  it('answers 500 and logs the secret by name, never its value', async () => {
    const value = 'plain-inbound-token-0123456789';
    stages = { AWSCURRENT: value };
    const post = await route();
    let answer: { status: number | undefined; body: string } | undefined;

    const logs = await logsOf(async () => {
      answer = await post(value);
    });

    expect(answer?.status).toBe(500);
    expect(logs).toContain('SEEN_INBOUND_SECRET_ID');
    expect(logs).toContain('is not JSON');
    for (const piece of [value, value.slice(0, 12), value.slice(-12)]) {
      expect(logs).not.toContain(piece);
      expect(answer?.body).not.toContain(piece);
    }
  });
});
