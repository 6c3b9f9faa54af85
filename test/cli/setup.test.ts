import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { type StubAnswer, type StubRequest, StubServer } from '../../bench/support/stub-server';
import { ODP_EVENT_FIELDS } from '../../functions/odp/event-fields';
import { resetOdpSandboxSchema } from '../../functions/odp/sandbox';
import { SCHEMA_CALL_SPACING_MS } from '../../functions/odp/setup';
import { stopAll } from '../support/teardown';
import { bridge } from './support';

const ODP_KEY = 'odp-private-key-7c6b5a49';

/**
 * ODP's schema API on loopback, answering as ZaiusInc/node-sdk documents it: "Get object" answers
 * the object definition with its fields (src/Api/Types/Schema.ts ObjectDefinition); "Create field"
 * and "Create identifier" answer 200, and a name already taken 400 with
 * `detail.invalids: [{field: "name" | "customers.name", reason: "already used ..."}]`
 * (src/Api/Schema/fields.test.ts, identifiers.test.ts). It keeps what was created.
 */
class OdpSchemaStub extends StubServer {
  readonly fields = new Set<string>(['ts', 'event_type', 'action', 'email']);
  /** Overrides the answer to a create call (a refusal the test wants). */
  refuse: (request: StubRequest) => StubAnswer | undefined = () => undefined;

  constructor() {
    super((request) => this.answer(request));
  }

  private answer(request: StubRequest): StubAnswer {
    if (request.headers['x-api-key'] !== ODP_KEY) return { status: 401, body: { title: 'Unauthorized', status: 401, message: 'Invalid API key' } };
    if (request.method === 'GET' && request.path === '/v3/schema/objects/events') {
      return {
        status: 200,
        body: { name: 'events', display_name: 'Events', fields: [...this.fields].map((name) => ({ name, type: 'string', display_name: name })) },
      };
    }
    const refused = this.refuse(request);
    if (refused) return refused;
    const body = request.body as { name: string };
    const taken = (field: string): StubAnswer => ({
      status: 400,
      body: { title: 'Bad Request', status: 400, detail: { invalids: [{ field, reason: 'already used by another field' }] } },
    });
    if (request.method === 'POST' && request.path === '/v3/schema/objects/events/fields') {
      if (this.fields.has(body.name)) return taken('name');
      this.fields.add(body.name);
      return { status: 200, body };
    }
    if (request.method === 'POST' && request.path === '/v3/schema/identifiers') {
      if (this.fields.has(body.name)) return taken('customers.name');
      this.fields.add(body.name);
      return { status: 200, body: { events: [{ name: body.name }], customers: [{ name: body.name }] } };
    }
    return { status: 404, body: { message: 'not found' } };
  }

  posts(path: string): StubRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === path);
  }
}

/** The step line of an item, split on its column gaps. */
function stepRow(out: string, item: string): { result: string; why: string } {
  const line = out.split('\n').find((text) => text.startsWith(`${item} `));
  if (!line) throw new Error(`no line for ${item} in:\n${out}`);
  const [, result, ...why] = line.split(/ {2,}/);
  return { result: result!, why: why.join('  ') };
}

describe('bridge setup odp --local: the event fields and the external id identifier, through ODP’s schema API', () => {
  const odp = new OdpSchemaStub();
  let url = '';
  const waits: number[] = [];
  const sleep = async (ms: number) => void waits.push(ms);
  const env = (overrides: Record<string, string | undefined> = {}) => ({
    ODP_API_URL: url,
    ODP_API_KEY: ODP_KEY,
    ODP_EXTERNAL_ID_IDENTIFIER: 'braze_external_id',
    ...overrides,
  });

  beforeAll(async () => {
    url = await odp.start();
  });
  afterAll(() => stopAll(() => odp.stop()));
  beforeEach(() => {
    odp.requests.length = 0;
    waits.length = 0;
    odp.refuse = () => undefined;
  });

  it('creates every field the Currents mapping writes and the identifier, spaced to ODP’s 10 calls a second; a second run creates nothing', async () => {
    odp.fields.add('_braze_event_id');

    const first = await bridge(['setup', 'odp', '--local'], { env: env(), sleep });

    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain('bridge setup odp: the local configuration');
    expect(stepRow(first.out, '1 event field')).toEqual({ result: 'exists', why: expect.stringContaining(`of the ${ODP_EVENT_FIELDS.length}`) });
    expect(stepRow(first.out, `${ODP_EVENT_FIELDS.length - 1} event fields`)).toEqual({
      result: 'created',
      why: `created on ODP's events object: _braze_event_type, _braze_user_id, _braze_user_device_id and ${ODP_EVENT_FIELDS.length - 4} more`,
    });
    expect(stepRow(first.out, 'identifier braze_external_id').result).toBe('created');
    const fieldPosts = odp.posts('/v3/schema/objects/events/fields');
    expect(fieldPosts).toHaveLength(ODP_EVENT_FIELDS.length - 1);
    expect(fieldPosts.find((r) => (r.body as { name: string }).name === '_braze_custom_properties')?.body).toEqual({
      name: '_braze_custom_properties',
      type: 'string',
      display_name: 'Braze Custom Properties',
      description: 'Braze Currents: properties.custom_properties (JSON text)',
    });
    expect(odp.posts('/v3/schema/identifiers').map((r) => r.body)).toEqual([
      { name: 'braze_external_id', display_name: 'Braze External ID', merge_confidence: 'high', messaging: false },
    ]);
    expect(odp.requests.every((r) => r.headers['x-api-key'] === ODP_KEY)).toBe(true);
    expect(waits).toEqual(Array(ODP_EVENT_FIELDS.length).fill(SCHEMA_CALL_SPACING_MS));
    expect(first.out).not.toContain(ODP_KEY);
    expect(first.out).not.toContain(url);

    odp.requests.length = 0;
    const second = await bridge(['setup', 'odp', '--local', '--json'], { env: env(), sleep });

    expect(second.code).toBe(0);
    expect(second.json()).toMatchObject({
      partner: 'odp',
      ok: true,
      steps: [
        { item: `${ODP_EVENT_FIELDS.length} event fields`, result: 'exists' },
        { item: 'identifier braze_external_id', result: 'exists' },
      ],
    });
    expect(odp.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v3/schema/objects/events']);
  });

  it('prints exactly what to create when ODP refuses the identifier to this key (only app developers and CSMs may), and exits 1', async () => {
    odp.fields.delete('crm_customer_id');
    odp.refuse = (request) =>
      request.path === '/v3/schema/identifiers' ? { status: 403, body: { title: 'Forbidden', status: 403, message: 'Forbidden' } } : undefined;

    const run = await bridge(['setup', 'odp', '--local'], { env: env({ ODP_EXTERNAL_ID_IDENTIFIER: 'crm_customer_id' }), sleep });

    expect(run.code).toBe(1);
    expect(stepRow(run.out, 'identifier crm_customer_id')).toEqual({
      result: 'manual',
      why: expect.stringContaining('name crm_customer_id, display name "Crm Customer ID", merge confidence high, not for messaging'),
    });
    expect(run.err).toContain('create by hand what the table says');
  });

  it('says how to create a field ODP refuses by name (a 400 that is not "already used") and goes on with the others', async () => {
    const [first, second] = ['_braze_extra_one', '_braze_extra_two'];
    odp.refuse = (request) =>
      (request.body as { name?: string } | undefined)?.name === second
        ? { status: 400, body: { title: 'Bad Request', status: 400, detail: { invalids: [{ field: 'name', reason: 'must start with a letter' }] } } }
        : undefined;
    const { runOdpSetup } = await import('../../functions/odp/setup');
    const fields = [first, second].map((name) => ({ name, type: 'string' as const, display_name: name, description: 'Braze Currents: test' }));
    const calls: string[] = [];

    const steps = await runOdpSetup(
      {
        settings: {},
        credential: (field) => (field === 'api_key' ? ODP_KEY : ''),
        call: async (request) => {
          calls.push(`${request.method} ${request.path}`);
          const response = await fetch(new URL(request.path, `${url}/`), { method: request.method, headers: request.headers, body: request.body });
          return { status: response.status, text: await response.text() };
        },
        wait: async () => undefined,
      },
      fields,
    );

    expect(steps).toEqual([
      { item: '1 event field', result: 'created', why: "created on ODP's events object: _braze_extra_one" },
      {
        item: 'event field _braze_extra_two (string)',
        result: 'manual',
        why: expect.stringContaining('400 (name: must start with a letter): create it in ODP'),
      },
      { item: 'external id identifier', result: 'skipped', why: expect.stringContaining('ODP_EXTERNAL_ID_IDENTIFIER is not set') },
    ]);
    expect(calls).toEqual(['GET v3/schema/objects/events', 'POST v3/schema/objects/events/fields', 'POST v3/schema/objects/events/fields']);
  });

  it('stops at a key ODP refuses (401): nothing created, the table says which credential to check, exit 1', async () => {
    const run = await bridge(['setup', 'odp', '--local'], { env: env({ ODP_API_KEY: 'wrong-key-000000' }), sleep });

    expect(run.code).toBe(1);
    expect(stepRow(run.out, 'events object')).toEqual({
      result: 'failed',
      why: expect.stringContaining("401 (Invalid API key): ODP refused the key: check the odp secret's api_key"),
    });
    expect(odp.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(run.out).not.toContain('wrong-key-000000');
  });

  it('refuses a partner with no set-up, naming those that have one (exit 2)', async () => {
    const run = await bridge(['setup', 'seen', '--local'], { env: env() });

    expect(run.code).toBe(2);
    expect(run.err).toContain('bridge setup takes odp');
  });
});

describe('bridge setup odp --local with ODP_API_URL unset: npm start’s sandbox answers as ODP would', () => {
  afterEach(() => resetOdpSandboxSchema());

  it('creates the fields and the identifier in the sandbox, and says the sandbox answered', async () => {
    const run = await bridge(['setup', 'odp', '--local', '--json'], { env: { ODP_EXTERNAL_ID_IDENTIFIER: 'braze_external_id' }, sleep: async () => undefined });

    expect(run.code).toBe(0);
    const result = run.json<{ sandboxed: boolean; target: string; steps: { item: string; result: string }[] }>();
    expect(result.sandboxed).toBe(true);
    expect(result.target).toContain('ODP_API_URL is not set');
    expect(result.steps).toEqual([
      { item: `${ODP_EVENT_FIELDS.length} event fields`, result: 'created', why: expect.stringContaining("created on ODP's events object: _braze_event_id, ") },
      { item: 'identifier braze_external_id', result: 'created', why: expect.any(String) },
    ]);
  });
});

describe('bridge setup odp against a deployed stack: the ODP consumer’s settings and secret', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  const lambda = mockClient(LambdaClient);
  const secretsManager = mockClient(SecretsManagerClient);
  const odp = new OdpSchemaStub();
  const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:Bridge/odp-AbCdEf';

  afterAll(() =>
    stopAll(
      () => odp.stop(),
      () => cloudFormation.restore(),
      () => lambda.restore(),
      () => secretsManager.restore(),
    ),
  );

  it("reads ODP_API_URL, ODP_EXTERNAL_ID_IDENTIFIER and the key from the stack's odp-events consumer and its secret", async () => {
    const url = await odp.start();
    cloudFormation.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: [
        {
          LogicalResourceId: 'DeliveryodpeventsConsumerFunction7E8F9A0B',
          PhysicalResourceId: 'Bridge-odp-events-consumer',
          ResourceType: 'AWS::Lambda::Function',
          ResourceStatus: 'UPDATE_COMPLETE',
          LastUpdatedTimestamp: new Date('2026-01-01T00:00:00Z'),
        },
      ],
    });
    lambda.on(GetFunctionConfigurationCommand).resolves({
      Environment: {
        Variables: { BRIDGE_FLOW_ID: 'odp-events-delivery', ODP_API_URL: url, ODP_SECRET_ID: secretArn, ODP_EXTERNAL_ID_IDENTIFIER: 'braze_external_id' },
      },
    });
    secretsManager.on(GetSecretValueCommand, { SecretId: secretArn }).resolves({ SecretString: JSON.stringify({ api_key: ODP_KEY }) });

    const run = await bridge(['setup', 'odp', '--stack', 'Bridge', '--region', 'eu-west-1'], { sleep: async () => undefined });

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('bridge setup odp: stack Bridge (eu-west-1)');
    expect(odp.posts('/v3/schema/objects/events/fields')).toHaveLength(ODP_EVENT_FIELDS.length);
    expect(odp.posts('/v3/schema/identifiers').map((r) => (r.body as { name: string }).name)).toEqual(['braze_external_id']);
    expect(run.out).not.toContain(ODP_KEY);
  });
});
