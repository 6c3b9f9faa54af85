import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { type StubAnswer, StubServer } from '../../bench/support/stub-server';
import { deliveryQueues, partners } from '../../functions/catalogue';
import { settingNames } from '../../functions/core/settings';
import { stopAll } from '../support/teardown';

/** Every check the catalogue's partners declare; those of a partner this suite does not configure (a new folder) are sandboxed. */
const CHECKS = partners.reduce((sum, partner) => sum + (partner.doctor?.length ?? 0), 0);
const CONFIGURED = ['braze', 'seen', 'movable-ink', 'sendbird', 'lytics', 'odp'];
const OTHERS = partners.filter((partner) => !CONFIGURED.includes(partner.id)).reduce((sum, partner) => sum + (partner.doctor?.length ?? 0), 0);
const othersSandboxed = OTHERS > 0 ? `, ${OTHERS} sandboxed` : '';

import { bridge } from './support';

/**
 * Answers as the vendors document them:
 * - Braze: a /users/track with no objects is refused 400 with this message once the key is
 *   accepted (the message as in segmentio/action-destinations' Braze multistatus tests); 401 is
 *   "Invalid API key" (braze-inc/braze-docs _docs/_api/errors.md).
 * - Lytics: the collect API's success answer, with the dry run echoed (Lytics API reference,
 *   Data Upload: `{"status": 200, "message": "success", "data": {"message_count", "dryrun", ...}}`).
 * - ODP: "List objects" answers an array of object definitions (ZaiusInc/node-sdk ObjectDefinition).
 */
const BRAZE_NO_OBJECTS: StubAnswer = { status: 400, body: { message: "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields." } };
const LYTICS_DRY_RUN: StubAnswer = { status: 200, body: { status: 200, message: 'success', data: { message_count: 1, rejected_count: 0, dryrun: true } } };
const ODP_OBJECTS: StubAnswer = { status: 200, body: [{ name: 'customers', display_name: 'Customers', fields: [] }] };

const CREDENTIALS = {
  BRAZE_API_KEY: 'braze-key-5f1e2d3c4b5a',
  SEEN_API_TOKEN: 'seen-token-9a8b7c6d',
  MOVABLE_INK_API_USERNAME: 'mi-user-1a2b',
  MOVABLE_INK_API_PASSWORD: 'mi-pass-3c4d5e',
  SENDBIRD_API_TOKEN: 'sendbird-token-7f6e5d',
  LYTICS_API_TOKEN: 'lytics-token-0c1d2e3f',
  ODP_API_KEY: 'odp-key-4a5b6c7d',
};
/** The key inside Movable Ink's endpoint URL: the URL is never printed, only its setting's name. */
const MOVABLE_INK_URL_KEY = 'mi-url-key-8e9f0a1b';

/** A port nothing listens on: a server opened and closed again. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A server that takes requests and never answers them (no timer left behind when it stops). */
async function silentServer(): Promise<{ url: string; server: Server }> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The table line of a destination's check, split on its column gaps. */
function tableRow(out: string, destination: string, check: string): { result: string; why: string } {
  const line = out.split('\n').find((text) => text.startsWith(`${destination} `) && text.includes(check));
  if (!line) throw new Error(`no line for ${destination} / ${check} in:\n${out}`);
  const [, , result, ...why] = line.split(/ {2,}/);
  return { result: result!, why: why.join('  ') };
}

describe("the partners' doctor checks", () => {
  it.each(partners.map((partner) => [partner.id, partner] as const))('%s: checks its own URL setting and queues, each with a source', (_id, partner) => {
    expect(partner.doctor?.length).toBeGreaterThan(0);
    for (const check of partner.doctor ?? []) {
      expect(settingNames(partner.settings.schema)).toContain(check.urlSetting);
      for (const queue of check.queues ?? []) expect(deliveryQueues.find((q) => q.id === queue)?.destination).toBe(partner.id);
      expect(check.source.length).toBeGreaterThan(20);
      if ('cannotCheck' in check) expect(check.cannotCheck).toMatch(/^cannot check without sending: /);
    }
  });
});

describe('bridge doctor --local: one harmless call per destination of the environment npm start reads', () => {
  const braze = new StubServer(() => BRAZE_NO_OBJECTS);
  const lytics = new StubServer(() => LYTICS_DRY_RUN);
  const odp = new StubServer(() => ODP_OBJECTS);
  /** Stands in for SEEN, Sendbird and Movable Ink: no harmless call exists, so it must receive nothing. */
  const sendOnly = new StubServer();
  /** Where a redirect points: following it would hand it the credential. */
  const elsewhere = new StubServer();
  const named = { braze, lytics, odp, sendOnly, elsewhere };
  const stubs = Object.values(named);
  const url: Record<string, string> = {};
  let closed = '';
  let silent: Server | undefined;

  beforeAll(async () => {
    for (const [name, stub] of Object.entries(named)) url[name] = await stub.start();
    closed = await closedPortUrl();
    const started = await silentServer();
    silent = started.server;
    url.silent = started.url;
  });
  afterAll(() =>
    stopAll(...stubs.map((stub) => () => stub.stop()), () => {
      silent?.closeAllConnections();
      return new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
    }),
  );
  beforeEach(() => {
    for (const stub of stubs) stub.requests.length = 0;
    braze.respond = () => BRAZE_NO_OBJECTS;
    lytics.respond = () => LYTICS_DRY_RUN;
    odp.respond = () => ODP_OBJECTS;
  });

  const env = (overrides: Record<string, string | undefined> = {}) => ({
    ...CREDENTIALS,
    BRAZE_REST_ENDPOINT: url.braze,
    SEEN_API_URL: url.sendOnly,
    MOVABLE_INK_API_URL: `${url.sendOnly}/behavioral/${MOVABLE_INK_URL_KEY}`,
    SENDBIRD_API_URL: url.sendOnly,
    LYTICS_API_URL: url.lytics,
    ODP_API_URL: url.odp,
    ...overrides,
  });

  const expectNoSecretIn = (text: string) => {
    for (const value of [...Object.values(CREDENTIALS), MOVABLE_INK_URL_KEY]) expect(text).not.toContain(value);
  };

  it('checks each destination that has a harmless call, says plainly which have none, and exits 0', async () => {
    const run = await bridge(['doctor', '--local'], { env: env() });

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('bridge doctor: the local configuration');
    expect(tableRow(run.out, 'braze', 'POST /users/track')).toEqual({ result: 'ok', why: expect.stringContaining('the key was accepted') });
    expect(tableRow(run.out, 'lytics', 'dryrun=true')).toEqual({ result: 'ok', why: expect.stringContaining('nothing stored') });
    expect(tableRow(run.out, 'odp', 'GET /v3/schema/objects')).toEqual({ result: 'ok', why: 'the credentials were accepted (200)' });
    for (const [destination, check] of [
      ['braze', 'triggers'],
      ['seen', 'receivers'],
      ['sendbird', 'notifications'],
      ['movable-ink', 'behavioral'],
    ] as const) {
      expect(tableRow(run.out, destination, check)).toEqual({ result: 'cannot check', why: expect.stringMatching(/^cannot check without sending: /) });
    }
    expect(run.out).toContain(`${CHECKS} checks: 3 ok, 4 cannot check${othersSandboxed}`);

    expect(braze.requests).toHaveLength(1);
    expect(braze.requests[0]).toMatchObject({ method: 'POST', path: '/users/track', body: {} });
    expect(braze.requests[0]!.headers.authorization).toBe(`Bearer ${CREDENTIALS.BRAZE_API_KEY}`);
    expect(lytics.requests.map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['POST', '/collect/json/braze_users?dryrun=true', CREDENTIALS.LYTICS_API_TOKEN],
    ]);
    expect(odp.requests.map((r) => [r.method, r.path, r.headers['x-api-key']])).toEqual([['GET', '/v3/schema/objects', CREDENTIALS.ODP_API_KEY]]);
    expect(sendOnly.requests).toHaveLength(0);
    expectNoSecretIn(run.out + run.err);
  });

  it('a 401 is refused naming the key (never its value, even echoed by the answer), and exits 1', async () => {
    braze.respond = () => ({ status: 401, body: { message: `Invalid API key: ${CREDENTIALS.BRAZE_API_KEY}` } });

    const run = await bridge(['doctor', '--local'], { env: env() });

    expect(run.code).toBe(1);
    const row = tableRow(run.out, 'braze', 'POST /users/track');
    expect(row.result).toBe('refused');
    expect(row.why).toMatch(/^401: the key was rejected \(Invalid API key: \*\*\*\*\): check BRAZE_API_KEY$/);
    expect(run.err).toContain(`1 of ${CHECKS} checks is refused, unreachable or misconfigured: braze`);
    expectNoSecretIn(run.out + run.err);
  });

  it('a 302 is refused as a redirect and not followed: where it points receives nothing', async () => {
    lytics.respond = () => ({ status: 302, headers: { location: `${url.elsewhere}/collect/json/braze_users?dryrun=true` } });

    const run = await bridge(['doctor', '--local'], { env: env() });

    expect(run.code).toBe(1);
    const row = tableRow(run.out, 'lytics', 'dryrun=true');
    expect(row.result).toBe('refused');
    expect(row.why).toContain('302 redirect to another host, not followed');
    expect(row.why).toContain('check LYTICS_API_URL');
    expect(lytics.requests).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
    expect(run.out).not.toContain(url.elsewhere);
  });

  it('a closed port and a destination that does not answer in time are unreachable', async () => {
    const refused = await bridge(['doctor', '--local'], { env: env({ ODP_API_URL: closed }) });
    const unanswered = await bridge(['doctor', '--local', '--timeout', '1'], { env: env({ ODP_API_URL: url.silent }) });

    expect(refused.code).toBe(1);
    expect(tableRow(refused.out, 'odp', 'schema')).toEqual({ result: 'unreachable', why: 'connection refused: check ODP_API_URL and the network' });
    expect(unanswered.code).toBe(1);
    expect(tableRow(unanswered.out, 'odp', 'schema')).toEqual({ result: 'unreachable', why: 'no answer within 1 s: check ODP_API_URL and the network' });
  });

  it('reads the vendor-specific answers: another Braze 400 is not an accepted key, an ODP 403 may be a push-only key', async () => {
    braze.respond = () => ({ status: 400, body: { message: 'Bad Request' } });
    odp.respond = () => ({ status: 403, body: { title: 'Forbidden', status: 403 } });

    const run = await bridge(['doctor', '--local'], { env: env() });

    expect(run.code).toBe(1);
    expect(tableRow(run.out, 'braze', 'POST /users/track')).toEqual({
      result: 'refused',
      why: "400 but not Braze's answer to an accepted key with no objects: Bad Request",
    });
    expect(tableRow(run.out, 'odp', 'schema')).toEqual({
      result: 'cannot check',
      why: expect.stringContaining('a public key (tracker id) may only push data'),
    });
  });

  it('--json gives every check with its result, status and source', async () => {
    braze.respond = () => ({ status: 403, body: { message: 'Access Denied' } });

    const run = await bridge(['doctor', '--local', '--json'], { env: env() });

    expect(run.code).toBe(1);
    const answer = run.json<{
      target: unknown;
      ok: boolean;
      checks: { destination: string; check: string; result: string; status?: number; why: string; source: string }[];
    }>();
    expect(answer.target).toEqual({ kind: 'local' });
    expect(answer.ok).toBe(false);
    expect(answer.checks).toHaveLength(CHECKS);
    expect(answer.checks.find((c) => c.destination === 'braze' && c.check.includes('/users/track'))).toMatchObject({
      result: 'refused',
      status: 403,
      why: '403: the key lacks a permission this call needs (Access Denied): check its permissions',
    });
    expect(answer.checks.find((c) => c.destination === 'lytics')).toMatchObject({ result: 'ok', status: 200 });
    for (const check of answer.checks) expect(check.source).not.toBe('');
    expectNoSecretIn(run.out + run.err);
  });

  it('a destination with a URL but no credential is misconfigured, and nothing is sent to it', async () => {
    const run = await bridge(['doctor', '--local'], { env: env({ BRAZE_API_KEY: undefined }) });

    expect(run.code).toBe(1);
    expect(tableRow(run.out, 'braze', 'POST /users/track')).toEqual({ result: 'misconfigured', why: 'no credential: BRAZE_API_KEY not set' });
    expect(braze.requests).toHaveLength(0);
  });

  it('with no URL set every destination is sandboxed by npm start: nothing to check, nothing sent, exit 0', async () => {
    const run = await bridge(['doctor', '--local'], { env: {} });

    expect(run.code).toBe(0);
    expect(run.out).toContain(`${CHECKS} checks: ${CHECKS} sandboxed`);
    expect(tableRow(run.out, 'odp', 'schema')).toEqual({
      result: 'sandboxed',
      why: 'sandboxed (no URL set): nothing to check (set ODP_API_URL to check the real API)',
    });
    for (const stub of stubs) expect(stub.requests).toHaveLength(0);
  });

  it('--local and --stack together are a wrong command line', async () => {
    const run = await bridge(['doctor', '--local', '--stack', 'Bridge'], { env: env() });

    expect(run.code).toBe(2);
    expect(run.err).toContain('--local and --stack name different configurations');
    expect(braze.requests).toHaveLength(0);
  });
});

describe('bridge doctor against a deployed stack: each consumer’s settings and secret', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  const lambda = mockClient(LambdaClient);
  const secretsManager = mockClient(SecretsManagerClient);
  const braze = new StubServer(() => BRAZE_NO_OBJECTS);
  const lytics = new StubServer(() => ({ status: 401, body: { status: 401, message: 'unauthorized' } }));
  const url: Record<string, string> = {};
  const region = 'eu-west-1';
  const secretArn = (owner: string) => `arn:aws:secretsmanager:${region}:123456789012:secret:Bridge/${owner}-AbCdEf`;
  const AWS_SECRETS = { braze: 'aws-braze-key-1f2e3d4c', lytics: 'aws-lytics-token-5b6a7988', odp: 'odp-plain-text-key-0a9b8c' };

  beforeAll(async () => {
    url.braze = await braze.start();
    url.lytics = await lytics.start();
  });
  afterAll(() =>
    stopAll(
      () => braze.stop(),
      () => lytics.stop(),
      () => cloudFormation.restore(),
      () => lambda.restore(),
      () => secretsManager.restore(),
    ),
  );
  beforeEach(() => {
    cloudFormation.reset();
    lambda.reset();
    secretsManager.reset();
  });

  const resource = (LogicalResourceId: string, PhysicalResourceId: string, ResourceType = 'AWS::Lambda::Function') => ({
    LogicalResourceId,
    PhysicalResourceId,
    ResourceType,
    ResourceStatus: 'UPDATE_COMPLETE' as const,
    LastUpdatedTimestamp: new Date('2026-01-01T00:00:00Z'),
  });

  it('calls each deployed destination with its consumer’s URL and secret, and names what the stack lacks', async () => {
    cloudFormation
      .on(ListStackResourcesCommand)
      .resolvesOnce({
        StackResourceSummaries: [
          resource('DeliverybrazetrackConsumerFunction1A2B3C4D', 'Bridge-braze-track-consumer'),
          resource('IngresslyticsaudiencesFunction5E6F7A8B', 'Bridge-lytics-audiences-ingress'),
          resource('DeliverybrazetrackQueue9C0D1E2F', 'https://sqs.eu-west-1.amazonaws.com/123456789012/Bridge-queue', 'AWS::SQS::Queue'),
        ],
        NextToken: 'page-2',
      })
      .resolves({
        StackResourceSummaries: [
          resource('DeliverylyticsusersConsumerFunction3A4B5C6D', 'Bridge-lytics-users-consumer'),
          resource('DeliveryodpeventsConsumerFunction7E8F9A0B', 'Bridge-odp-events-consumer'),
        ],
      });
    const environments: Record<string, Record<string, string>> = {
      'Bridge-braze-track-consumer': { BRIDGE_FLOW_ID: 'braze-track-delivery', BRAZE_REST_ENDPOINT: url.braze!, BRAZE_SECRET_ID: secretArn('braze') },
      'Bridge-lytics-users-consumer': {
        BRIDGE_FLOW_ID: 'lytics-users-delivery',
        LYTICS_API_URL: url.lytics!,
        LYTICS_USERS_STREAM: 'braze_users_eu',
        LYTICS_SECRET_ID: secretArn('lytics'),
      },
      'Bridge-odp-events-consumer': {
        BRIDGE_FLOW_ID: 'odp-events-delivery',
        ODP_API_URL: 'https://api.eu1.odp.optimizely.com',
        ODP_SECRET_ID: secretArn('odp'),
      },
    };
    lambda
      .on(GetFunctionConfigurationCommand)
      .callsFake((input: { FunctionName: string }) => ({ Environment: { Variables: environments[input.FunctionName] } }));
    secretsManager.on(GetSecretValueCommand, { SecretId: secretArn('braze') }).resolves({ SecretString: JSON.stringify({ api_key: AWS_SECRETS.braze }) });
    secretsManager.on(GetSecretValueCommand, { SecretId: secretArn('lytics') }).resolves({ SecretString: JSON.stringify({ api_token: AWS_SECRETS.lytics }) });
    // Stored as plain text instead of JSON: refused, naming the secret and never showing its value.
    secretsManager.on(GetSecretValueCommand, { SecretId: secretArn('odp') }).resolves({ SecretString: AWS_SECRETS.odp });
    braze.requests.length = 0;
    lytics.requests.length = 0;

    const run = await bridge(['doctor', '--stack', 'Bridge', '--region', region]);

    expect(run.code).toBe(1);
    expect(run.out).toContain(`bridge doctor: stack Bridge (${region})`);
    expect(tableRow(run.out, 'braze', 'POST /users/track').result).toBe('ok');
    expect(tableRow(run.out, 'braze', 'triggers')).toEqual({ result: 'not deployed', why: 'the stack has no consumer of braze-triggers: nothing to check' });
    expect(tableRow(run.out, 'lytics', 'dryrun=true')).toEqual({
      result: 'refused',
      why: '401: the key was rejected (unauthorized): check api_token of the lytics secret (LYTICS_SECRET_ID)',
    });
    expect(tableRow(run.out, 'odp', 'schema')).toEqual({ result: 'misconfigured', why: 'the odp secret (ODP_SECRET_ID) is not a JSON object' });
    for (const destination of ['seen', 'sendbird', 'movable-ink']) expect(tableRow(run.out, destination, '').result).toBe('not deployed');

    expect(cloudFormation.commandCalls(ListStackResourcesCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: 'Bridge', NextToken: undefined },
      { StackName: 'Bridge', NextToken: 'page-2' },
    ]);
    expect(
      lambda
        .commandCalls(GetFunctionConfigurationCommand)
        .map((c) => c.args[0].input.FunctionName)
        .sort(),
    ).toEqual(['Bridge-braze-track-consumer', 'Bridge-lytics-users-consumer', 'Bridge-odp-events-consumer']);
    expect(
      secretsManager
        .commandCalls(GetSecretValueCommand)
        .map((c) => c.args[0].input.SecretId)
        .sort(),
    ).toEqual([secretArn('braze'), secretArn('lytics'), secretArn('odp')]);
    expect(braze.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${AWS_SECRETS.braze}`]);
    expect(lytics.requests.map((r) => [r.path, r.headers.authorization])).toEqual([['/collect/json/braze_users_eu?dryrun=true', AWS_SECRETS.lytics]]);
    for (const value of Object.values(AWS_SECRETS)) expect(run.out + run.err).not.toContain(value);
  });

  it('a stack it cannot read fails naming the stack', async () => {
    cloudFormation.on(ListStackResourcesCommand).rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));

    const run = await bridge(['doctor', '--stack', 'Nope', '--region', region]);

    expect(run.code).toBe(1);
    expect(run.err).toContain('cannot read stack Nope: ValidationError: Stack with id Nope does not exist');
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(0);
  });
});
