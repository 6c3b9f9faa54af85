/**
 * The OpenAPI document (local/openapi.ts): valid OpenAPI 3.1 by a real validator, every catalogue
 * route in it with the auth it accepts, request schemas that accept the fixtures and refuse bad
 * bodies as zod does, response shapes that match what the real handlers answer, and openapi.json
 * up to date. Nothing here is timed.
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { deliveryQueues, type IngressFlow, ingressFlows, partners } from '../../functions/catalogue';
import { laneQueueVariable } from '../../functions/core/catalogue-types';
import { loadConfig } from '../../functions/core/config';
import { createDeps, type Deps } from '../../functions/core/deps';
import type { HttpEvent, HttpResult } from '../../functions/core/ingress';
import { EnvSecretStore } from '../../functions/core/secrets';
import { validate } from '../../functions/core/validation';
import { signatureHeader, verifySendbirdSignature } from '../../functions/sendbird/status';
import {
  buildOpenApi,
  contractOf,
  generateOpenApi,
  type IngressContract,
  loadIngressContracts,
  OPENAPI_FILE,
  type OpenApiDocument,
  pathParameterNames,
  serialise,
} from '../../local/openapi';
import { openApiRoutes } from '../../local/openapi-route';
import type { Runner } from '../../local/runner';
import { stopAll } from '../support/teardown';
import { FakeClock, RecordingQueue, readFixture } from './helpers';

const projectRoot = path.resolve(__dirname, '../..');
const TOKEN = 'openapi-test-token';
const MAX_BODY_BYTES = 4096;

/**
 * Validates a document with @seriousme/openapi-schema-validator. It is ESM only, which jest's
 * CommonJS runtime cannot load, so it runs in a child Node process (the project's own Node).
 */
function validateOpenApi(document: unknown): { valid: boolean; version?: string; errors?: unknown } {
  const program = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(text));
    process.stdout.write(JSON.stringify({ valid: result.valid, version: validator.version, errors: result.errors }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], { cwd: projectRoot, input: JSON.stringify(document), encoding: 'utf8' });
  return JSON.parse(out) as { valid: boolean; version?: string; errors?: unknown };
}

const DOC_ID = 'https://bridge.local/openapi.json';
/** Ajv (JSON Schema 2020-12, strict: an unknown keyword fails) over the document's components. */
function schemaValidator(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  ajv.addVocabulary(['components']);
  ajv.addSchema({ $id: DOC_ID, components: document.components });
  return (name: string) => ajv.compile({ $ref: `${DOC_ID}#/components/schemas/${name}` });
}

/** A good and a bad body for each route: the fixtures where the seeds give one. */
const samples: Record<string, { good: unknown[]; bad: unknown[]; pathParameters?: Record<string, string> }> = {
  'seen-callback': {
    good: [readFixture('seen/callback.json')],
    bad: [
      { campaign_slug: 'onboarding', id: true },
      { ...(readFixture('seen/callback.json') as object), customer_id: '' },
    ],
  },
  'seen-receivers': { good: [readFixture('seen/receivers.json')], bad: [[{ first_name: 'Ada' }], []], pathParameters: { campaign_slug: 'onboarding' } },
  'movable-ink-events': {
    good: ['account-created.json', 'account-created-with-email.json', 'category-viewed.json', 'product-viewed.json'].map((f) =>
      readFixture(`movable-ink/${f}`),
    ),
    bad: [{ events: [{ external_id: '1', time: '2023-12-06T19:20:45+01:00' }] }, { events: [] }],
  },
  'sendbird-notifications': {
    good: [
      { template_key: 'welcome', targets: ['u1', 'u2'], variables: { name: 'Ada' } },
      { template_key: 'welcome', mode: 'realtime', recipient: 42 },
    ],
    bad: [{ targets: ['u1'] }, { template_key: 'welcome', mode: 'later', recipient: 'u1' }],
  },
  'sendbird-braze-callback': {
    good: [(readFixture('sendbird/braze-callback.json') as { body: unknown }).body],
    bad: [{ attributes: [{ external_id: 'u1', email: 'x@example.com' }] }, { events: [{ external_id: 'u1', name: 'status' }] }],
  },
  'sendbird-status': {
    good: [[{ user_id: 'u1', status: 'READ', notification_id: 'n1' }], { user_id: 'u1', status: 'SENT', notification_id: 7, timestamp: 1701886845000 }],
    bad: [[{ user_id: 'u1', status: 'DELIVERED', notification_id: 'n1' }], { status: 'READ' }],
  },
  'lytics-audiences': {
    good: [readFixture('lytics/audience.json'), [{ email: 'a@example.com', lytics_segments: { add: ['x'] } }, readFixture('lytics/audience.json')]],
    bad: [[{ external_id: 'u1' }], { lytics_to_braze_audience: [{ external_id: 'u1', lytics_segments: { add: [42] } }] }],
  },
  'lytics-users': { good: [readFixture('lytics/profile.json')], bad: [{ email: 'john.smith@email.com' }, { braze_id: 'x', nested: { a: 1 } }] },
  'odp-activation': {
    good: [{ target: 'profile', records: [{ external_id: 'u1', fields: { tier: 'gold' } }] }],
    bad: [
      { target: 'segment', records: [{ external_id: 'u1' }] },
      { target: 'profile', records: [{ external_id: true }] },
    ],
  },
  'odp-currents': {
    // Braze's Custom Event and Purchase Event examples (custom Currents connector page; the test's body limit is 4 KB),
    // and the zero-event batch Braze checks a Current's credentials with.
    good: [{ events: (readFixture('odp/currents-connector-page.json') as { events: unknown[] }).events.slice(8, 10) }, { events: [] }],
    bad: [{ events: [{ event_type: 'users.behaviors.CustomEvent', time: 1 }] }],
  },
};

/** The records of a body, as its route checks them one by one (the open array, or the body itself). */
function recordsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  const lists = Object.values(body as Record<string, unknown>).filter(Array.isArray);
  return lists.length > 0 ? lists.flat() : [body];
}

/** What zod says of a body: the request schema, then each record against the record schema. */
function zodAccepts(contract: IngressContract, body: unknown): boolean {
  if (!z.safeParse(contract.requestSchema, body).success) return false;
  return !contract.recordSchema || recordsOf(body).every((record) => z.safeParse(contract.recordSchema!, record).success);
}

describe('the OpenAPI document', () => {
  let contracts: IngressContract[];
  let document: OpenApiDocument;
  let schemaOf: ReturnType<typeof schemaValidator>;

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    contracts = await loadIngressContracts();
    document = await generateOpenApi();
    schemaOf = schemaValidator(document);
  });

  it('is valid OpenAPI 3.1 by @seriousme/openapi-schema-validator, which refuses a broken one', () => {
    const result = validateOpenApi(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result).toMatchObject({ valid: true, version: '3.1' });

    const broken = structuredClone(document);
    const operation = broken.paths[ingressFlows[0]!.path]!.post as { requestBody: { content: Record<string, { schema: unknown }> } };
    operation.requestBody.content['application/json']!.schema = { $ref: '#/components/schemas/missing' };
    expect(validateOpenApi(broken).valid).toBe(false);
  });

  it('has every schema compile as JSON Schema 2020-12 (strict), every $ref resolving', () => {
    for (const name of Object.keys(document.components.schemas)) expect(() => schemaOf(name)).not.toThrow();
  });

  it('takes its title and version from package.json, and names a local and a deployed server', () => {
    const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { name: string; version: string };
    expect(document.info).toMatchObject({ title: pkg.name, version: pkg.version });
    expect(document.info.description).toMatch(/202/);
    expect(document.servers.map((server) => server.url)).toEqual(['http://localhost:3000', 'https://{apiId}.execute-api.{region}.amazonaws.com']);
  });

  it('documents every catalogue route: path, parameters, request schema, the auth it accepts, every answer', () => {
    const operations = Object.values(document.paths).flatMap((item) => Object.values(item));
    expect(operations).toHaveLength(ingressFlows.length);
    for (const flow of ingressFlows) {
      const operation = document.paths[flow.path]?.[flow.method.toLowerCase()] as Record<string, any> | undefined;
      expect({ flow: flow.id, operationId: operation?.operationId }).toEqual({ flow: flow.id, operationId: flow.id });
      expect(operation!.tags).toEqual([flow.source]);
      expect((operation!.parameters ?? []).map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required])).toEqual(
        pathParameterNames(flow.path).map((name) => [name, 'path', true]),
      );
      expect(operation!.requestBody.content['application/json'].schema).toEqual({ $ref: `#/components/schemas/${flow.id}.request` });
      const success = String(contracts.find((c) => c.flow === flow)!.successAnswer?.status ?? 202);
      expect(Object.keys(operation!.responses)).toEqual([success, '400', '401', '413', '429', '5XX']);
      // Alternatives: one security requirement per accepted scheme.
      const schemes = (operation!.security as Record<string, string[]>[]).map((requirement) => Object.keys(requirement));
      expect(schemes.every((keys) => keys.length === 1)).toBe(true);
      const accepted = schemes.map(([key]) => document.components.securitySchemes[key!]);
      expect(accepted).toEqual(
        flow.auth.map((scheme) =>
          scheme === 'bearer' || scheme === 'basic'
            ? expect.objectContaining({ type: 'http', scheme })
            : scheme === 'query'
              ? expect.objectContaining({ type: 'apiKey', in: 'query', name: 'token' })
              : expect.objectContaining({ type: 'apiKey', in: 'header', name: contracts.find((c) => c.flow === flow)!.signatureHeader!.name }),
        ),
      );
    }
  });

  it('documents the path parameter schema a route validates with (the campaign slug pattern)', () => {
    const receivers = document.paths['/seen/campaigns/{campaign_slug}/receivers']!.post as { parameters: { schema: { pattern?: string } }[] };
    expect(receivers.parameters[0]!.schema.pattern).toBe('^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$');
  });

  it('names the header the signature verifier really reads, with what it carries', async () => {
    expect(document.components.securitySchemes.signature).toEqual({
      type: 'apiKey',
      in: 'header',
      name: 'x-sendbird-signature',
      description: expect.stringMatching(/hex HMAC-SHA256 of the raw request body, keyed with the partner's API token/i),
    });
    const secrets = EnvSecretStore.fromConfig(loadConfig({ SENDBIRD_API_TOKEN: 'sb-token' }));
    const raw = Buffer.from('{"user_id":"u1"}');
    const signature = createHmac('sha256', 'sb-token').update(raw).digest('hex');
    await expect(verifySendbirdSignature(raw, { [signatureHeader.name]: signature }, secrets)).resolves.toBe(true);
    await expect(verifySendbirdSignature(raw, { 'x-other-signature': signature }, secrets)).resolves.toBe(false);
  });

  it('has a sample for every route (add one here with a new flow)', () => {
    expect(ingressFlows.map((flow) => flow.id).filter((id) => !samples[id])).toEqual([]);
  });

  it('accepts every sample body (the fixtures) and refuses each bad one, as zod does', () => {
    for (const contract of contracts) {
      const check = schemaOf(`${contract.flow.id}.request`);
      const { good, bad } = samples[contract.flow.id]!;
      for (const body of good) {
        expect({ flow: contract.flow.id, valid: check(body), errors: check.errors ?? null }).toEqual({ flow: contract.flow.id, valid: true, errors: null });
        expect({ flow: contract.flow.id, zod: zodAccepts(contract, body) }).toEqual({ flow: contract.flow.id, zod: true });
      }
      for (const body of bad) {
        expect({ flow: contract.flow.id, body, valid: check(body) }).toEqual({ flow: contract.flow.id, body, valid: false });
        expect({ flow: contract.flow.id, body, zod: zodAccepts(contract, body) }).toEqual({ flow: contract.flow.id, body, zod: false });
      }
    }
  });

  it('names what JSON Schema cannot express in the schema it belongs to (refinements, trimming)', () => {
    const activation = document.components.schemas['odp-activation.request'] as { description?: string; properties: Record<string, { description?: string }> };
    expect(activation.description).toContain('campaign_id: "required when target is campaign"');
    expect(activation.properties.campaign_id!.description).toMatch(/^Trimmed before its other checks/);
    const receiver = document.components.schemas['seen-receivers.record'] as { anyOf: { properties: Record<string, { description?: string }> }[] };
    expect(receiver.anyOf[0]!.properties.email!.description).toContain('"not an email address"');
  });

  it('matches openapi.json, as npm run openapi writes it (run it after changing a route or schema)', () => {
    expect(existsSync(OPENAPI_FILE)).toBe(true);
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(serialise(document));
  });

  describe('what the real handlers answer matches the documented responses', () => {
    const context = { awsRequestId: 'aws-1', functionName: 'f', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
    const lanes = Object.fromEntries(deliveryQueues.map((queue) => [laneQueueVariable(queue.id), `https://sqs.test/${queue.id}`]));
    const config = loadConfig({
      LOG_LEVEL: 'SILENT',
      QUEUE_URL: 'https://sqs.test/queue',
      INBOUND_TOKEN: TOKEN,
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      ...lanes,
    });

    async function handlerOf(flow: IngressFlow) {
      const queue = new RecordingQueue();
      const mod = (await import(path.join(projectRoot, flow.entry))) as {
        build: (deps: Deps, flow: IngressFlow) => (event: HttpEvent, context: Context) => Promise<HttpResult>;
      };
      // The fixtures' events are of December 2023: a clock of the day after keeps them recent.
      const deps = createDeps(flow.id, config, { queue, secrets: EnvSecretStore.fromConfig(config), clock: new FakeClock(Date.UTC(2023, 11, 7)) });
      const handler = mod.build(deps, flow);
      return async (body: string, token: string | null = TOKEN) => {
        const event = {
          version: '2.0',
          routeKey: `${flow.method} ${flow.path}`,
          rawPath: flow.path,
          rawQueryString: '',
          headers: token ? { authorization: `Bearer ${token}` } : {},
          pathParameters: samples[flow.id]!.pathParameters,
          body,
          isBase64Encoded: false,
          requestContext: { requestId: 'req-1', http: { method: flow.method, path: flow.path } },
        } as unknown as HttpEvent;
        const result = await handler(event, context);
        return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') as unknown };
      };
    }

    it('202 Accepted, 400 ValidationFailure (issues exactly as the exported schema gives them), 401 and 413 Error', async () => {
      const shapes = { Accepted: schemaOf('Accepted'), ValidationFailure: schemaOf('ValidationFailure'), Error: schemaOf('Error') };
      const conforms = (shape: keyof typeof shapes, body: unknown) => ({ shape, body, valid: shapes[shape](body) });
      for (const contract of contracts) {
        const post = await handlerOf(contract.flow);
        const { good, bad } = samples[contract.flow.id]!;
        for (const body of good) {
          const answer = await post(JSON.stringify(body));
          // A facade (Sendbird's Braze callback) answers as the API it stands in for, as its module documents.
          const success = contract.successAnswer;
          expect({ flow: contract.flow.id, status: answer.status }).toEqual({ flow: contract.flow.id, status: success?.status ?? 202 });
          if (success) expect({ body: answer.body, valid: schemaOf(`${contract.flow.id}.success`)(answer.body) }).toMatchObject({ valid: true });
          else expect(conforms('Accepted', answer.body)).toMatchObject({ valid: true });
        }
        for (const body of bad) {
          const answer = await post(JSON.stringify(body));
          expect({ flow: contract.flow.id, body, status: answer.status }).toEqual({ flow: contract.flow.id, body, status: 400 });
          expect(conforms('ValidationFailure', answer.body)).toMatchObject({ valid: true });
        }
        // The exported requestSchema is the one the handler validates with: same issues, same message.
        for (const probe of [{}, [], [{}], 'text', 42]) {
          let expected: unknown;
          try {
            validate(contract.requestSchema, probe);
            continue;
          } catch (error) {
            expected = { error: (error as Error).message, issues: (error as { issues: unknown }).issues };
          }
          expect({ flow: contract.flow.id, probe, answer: await post(JSON.stringify(probe)) }).toEqual({
            flow: contract.flow.id,
            probe,
            answer: { status: 400, body: expected },
          });
        }
        const notJson = await post('{"not json');
        expect(notJson).toEqual({ status: 400, body: { error: 'body is not valid JSON', issues: [{ path: '(body)', message: 'not valid JSON' }] } });
        expect(conforms('ValidationFailure', notJson.body)).toMatchObject({ valid: true });
        const unauthenticated = await post(JSON.stringify(good[0]), null);
        expect(unauthenticated.status).toBe(401);
        expect(conforms('Error', unauthenticated.body)).toMatchObject({ valid: true });
        const tooLarge = await post(JSON.stringify({ padding: 'x'.repeat(MAX_BODY_BYTES) }));
        expect(tooLarge.status).toBe(413);
        expect(conforms('Error', tooLarge.body)).toMatchObject({ valid: true });
      }
    });

    it('the documented examples are what their schemas describe', () => {
      for (const item of Object.values(document.paths)) {
        for (const operation of Object.values(item) as {
          responses: Record<string, { content?: Record<string, { schema: { $ref: string }; example?: unknown }> }>;
        }[]) {
          for (const response of Object.values(operation.responses)) {
            const media = response.content?.['application/json'];
            if (media?.example === undefined) continue;
            const name = media.schema.$ref.split('/').pop()!;
            expect({ name, example: media.example, valid: schemaOf(name)(media.example) }).toMatchObject({ valid: true });
          }
        }
      }
    });
  });

  describe('the generator is generic', () => {
    it('names no partner in its code', () => {
      for (const file of ['local/openapi.ts', 'local/openapi-route.ts', 'local/write-openapi.ts']) {
        const source = readFileSync(path.join(projectRoot, file), 'utf8').toLowerCase();
        for (const partner of partners)
          expect({ file, partner: partner.id, named: new RegExp(`\\b${partner.id}\\b`).test(source) }).toEqual({ file, partner: partner.id, named: false });
      }
    });

    it('documents a made-up partner: signature header, path parameter, records, a recursive schema', () => {
      const node: z.ZodMiniType = z.object({
        name: z.string(),
        get children() {
          return z.optional(z.array(node));
        },
      });
      const flow: IngressFlow = {
        id: 'nimbus-hooks',
        seed: '999',
        description: 'Nimbus hooks -> Braze',
        source: 'nimbus',
        method: 'POST',
        path: '/nimbus/{tenant}/hooks',
        entry: 'functions/nimbus/hooks.ts',
        queue: 'braze-track',
        auth: ['query', 'signature'],
        throttle: { rateLimit: 10, burstLimit: 20 },
        limits: { maxRecords: 100, recordsField: 'hooks', maxDepth: 16 },
        caller: 'Nimbus: hook URL',
      };
      const contract = contractOf(flow, {
        requestSchema: z.object({ hooks: z.array(z.unknown()).check(z.minLength(1)) }),
        recordSchema: z.object({ id: z.string(), tree: z.optional(node) }),
        signatureHeader: { name: 'x-nimbus-signature', description: 'HMAC of the body' },
      });
      const made = buildOpenApi([contract], { title: 'made-up', version: '9.9.9', maxBodyBytes: 1234 });
      expect(validateOpenApi(made)).toMatchObject({ valid: true });
      const operation = made.paths['/nimbus/{tenant}/hooks']!.post as Record<string, any>;
      expect(operation.parameters).toEqual([{ name: 'tenant', in: 'path', required: true, schema: { type: 'string' } }]);
      expect(operation.security).toEqual([{ query: [] }, { signature: [] }]);
      expect(made.components.securitySchemes).toEqual({
        query: expect.objectContaining({ type: 'apiKey', in: 'query', name: 'token' }),
        signature: { type: 'apiKey', in: 'header', name: 'x-nimbus-signature', description: 'HMAC of the body' },
      });
      expect(made.components.responses.PayloadTooLarge!.description).toContain('1234 bytes');
      const check = schemaValidator(made)('nimbus-hooks.request');
      expect(check({ hooks: [{ id: 'a', tree: { name: 'root', children: [{ name: 'leaf' }] } }] })).toBe(true);
      expect(check({ hooks: [{ id: 'a', tree: { name: 'root', children: [{ nom: 'leaf' }] } }] })).toBe(false);
      expect(check({ hooks: [{ tree: { name: 'root' } }] })).toBe(false);
    });

    it("documents a facade's own success answer (status, schema as a component, example) in place of the 202", () => {
      const flow: IngressFlow = { ...ingressFlows[0]!, id: 'nimbus-facade', path: '/nimbus/facade', source: 'nimbus', auth: ['bearer'] };
      const successAnswer = {
        status: 201,
        description: 'As the stood-in API answers.',
        schema: { type: 'object', required: ['ok'], properties: { ok: { const: true } } },
        example: { ok: true },
      };

      const made = buildOpenApi([contractOf(flow, { requestSchema: z.object({ a: z.string() }), successAnswer })], { title: 'made-up', version: '9.9.9' });

      expect(validateOpenApi(made)).toMatchObject({ valid: true });
      const responses = (made.paths['/nimbus/facade']!.post as { responses: Record<string, unknown> }).responses;
      expect(Object.keys(responses)[0]).toBe('201');
      expect(responses['202']).toBeUndefined();
      expect(schemaValidator(made)('nimbus-facade.success')({ ok: true })).toBe(true);
      expect(schemaValidator(made)('nimbus-facade.success')({ ok: false })).toBe(false);
      expect(() => contractOf(flow, { requestSchema: z.object({}), successAnswer: { ...successAnswer, status: 302 } })).toThrow(/successAnswer/);
    });

    it('refuses a route module that does not export what the document needs, naming it', () => {
      const flow = { ...ingressFlows[0]!, auth: ['signature'] as const };
      expect(() => contractOf(ingressFlows[0]!, {})).toThrow(/export the schema given to createQueuedIngress as `requestSchema`/);
      expect(() => contractOf(flow, { requestSchema: z.object({}) })).toThrow(/signatureHeader/);
      expect(() =>
        buildOpenApi([contractOf(ingressFlows[0]!, { requestSchema: z.object({}), recordSchema: z.object({}) })], { title: 't', version: '1' }),
      ).toThrow(/leaves no record open/);
    });
  });

  describe('GET /openapi.json (npm start)', () => {
    let server: Server;
    let url: string;

    beforeAll(async () => {
      const runner = { port: 4321, config: { MAX_BODY_BYTES: 777 } } as unknown as Runner;
      const [route] = openApiRoutes(runner);
      server = createServer((req, res) => {
        void route!(req, res, new URL(req.url ?? '/', 'http://localhost')).then((mine) => {
          if (!mine) res.writeHead(404).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => stopAll(() => new Promise((resolve) => server?.close(resolve))));

    it("serves the document with this run's URL and body limit; leaves other paths alone", async () => {
      const response = await fetch(`${url}/openapi.json`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      const served = (await response.json()) as OpenApiDocument;
      expect(served.servers[0]!.url).toBe('http://localhost:4321');
      expect(served.components.responses.PayloadTooLarge!.description).toContain('777 bytes');
      expect(Object.keys(served.paths).sort()).toEqual(ingressFlows.map((flow) => flow.path).sort());
      expect((await fetch(`${url}/openapi.yaml`)).status).toBe(404);
      expect((await fetch(`${url}/openapi.json`, { method: 'POST' })).status).toBe(404);
    });
  });
});
