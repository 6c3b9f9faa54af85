/**
 * The OpenAPI 3.1 document of the inbound routes, generated from the catalogue (functions/catalogue.ts)
 * and the zod schemas each route validates with: no body schema is written twice. Served by
 * `npm start` at GET /openapi.json (local/openapi-route.ts) and written by `npm run openapi`
 * (local/write-openapi.ts). It lives in local/, never in functions/, so no Lambda bundle carries it.
 *
 * No partner is named here. What a route documents comes from its catalogue entry (path, method,
 * accepted auth, throttle, description) and from what its handler module (the entry's `entry`)
 * exports beside `build` and `handler`:
 * - `requestSchema` (required): the zod schema the module gives createQueuedIngress;
 * - `recordSchema`: where the request's records are checked one by one (a bad one refused by index
 *   in the 202's `rejected`), the schema of one record: it replaces the request schema's open
 *   (`z.unknown()`) array items, or the open-object branch of a body that is one record or an array;
 * - `pathParametersSchema`: a zod object of the path parameters it validates (else: strings);
 * - `signatureHeader`: `{name, description}` of the header its signature verifier reads, required
 *   when the route accepts the `signature` scheme;
 * - `successAnswer`: `{status, description, schema, example}` where the route answers a success
 *   otherwise than `202 {"accepted": n}` (a facade of another API answers as that API does).
 *
 * JSON Schema comes from zod's `toJSONSchema` (draft 2020-12, OpenAPI 3.1's dialect) with
 * `io: 'input'` (what a sender may send: the input side of pipes and transforms, defaults optional)
 * and `unrepresentable: 'any'`. What JSON Schema cannot say is named in the `description` of the
 * schema it belongs to: refinements (`Also checked: <message>`) and values normalised (trimmed)
 * before their checks.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import { type AuthScheme, type IngressFlow, ingressFlows, type Partner, partners, RouteTemplate } from '../functions/catalogue';
import { configSchema } from '../functions/core/config';
import { type FieldIssue, ValidationError } from '../functions/core/errors';
import { MAX_SQS_BATCH_BYTES } from '../functions/core/queue';
import { formatPath, validate } from '../functions/core/validation';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where `npm run openapi` writes the document (repository root). */
export const OPENAPI_FILE = path.join(projectRoot, 'openapi.json');
const OPENAPI_VERSION = '3.1.1';
/** The local server of the written document (`npm start` on its default PORT). */
const DEFAULT_LOCAL_URL = 'http://localhost:3000';

type JsonSchema = Record<string, unknown>;
type ZodSchema = z.ZodMiniType;

/** A route's answer on success where it is not `202 {"accepted": n}` (its module's `successAnswer`). */
interface SuccessAnswer {
  status: number;
  description: string;
  /** JSON Schema of the body. */
  schema: Record<string, unknown>;
  example: unknown;
}

interface SignatureHeader {
  /** Header the route's signature verifier reads, e.g. `x-<partner>-signature`. */
  name: string;
  /** What it carries and how it is computed. */
  description: string;
}

/** What the generator knows of one route: its catalogue entry and what its handler module exports. */
export interface IngressContract {
  flow: IngressFlow;
  requestSchema: ZodSchema;
  recordSchema?: ZodSchema;
  pathParametersSchema?: ZodSchema;
  signatureHeader?: SignatureHeader;
  successAnswer?: SuccessAnswer;
}

export interface OpenApiOptions {
  /** The document's title and version (package.json `name` and `version` for `npm run openapi`). */
  title: string;
  version: string;
  /** First server: the local run. */
  localUrl?: string;
  /** The body limit the 413 names (the running config's MAX_BODY_BYTES; default: the config default). */
  maxBodyBytes?: number;
  /** Partners, for the tags (one per partner owning a route). */
  partners?: readonly Partner[];
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  servers: { url: string; description: string; variables?: Record<string, { default: string; description: string }> }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, JsonSchema>;
    securitySchemes: Record<string, JsonSchema>;
  };
}

const isZodSchema = (value: unknown): value is ZodSchema => typeof value === 'object' && value !== null && '_zod' in value;

/** Imports each route's handler module (as `npm start` does) and reads the schemas it exports. */
export async function loadIngressContracts(flows: readonly IngressFlow[] = ingressFlows): Promise<IngressContract[]> {
  const contracts: IngressContract[] = [];
  for (const flow of flows) {
    const mod = (await import(path.join(projectRoot, flow.entry))) as Record<string, unknown>;
    contracts.push(contractOf(flow, mod));
  }
  return contracts;
}

/** Checks what a handler module exports and turns it into a contract, naming the flow and export on a miss. */
export function contractOf(flow: IngressFlow, mod: Record<string, unknown>): IngressContract {
  const where = `${flow.id} (${flow.entry})`;
  const { requestSchema, recordSchema, pathParametersSchema, signatureHeader, successAnswer } = mod;
  if (!isZodSchema(requestSchema)) throw new Error(`${where}: export the schema given to createQueuedIngress as \`requestSchema\``);
  for (const [name, value] of Object.entries({ recordSchema, pathParametersSchema })) {
    if (value !== undefined && !isZodSchema(value)) throw new Error(`${where}: \`${name}\` is not a zod schema`);
  }
  const header = signatureHeader as Partial<SignatureHeader> | undefined;
  if (flow.auth.includes('signature') && (typeof header?.name !== 'string' || typeof header.description !== 'string')) {
    throw new Error(`${where}: accepts the signature scheme: export \`signatureHeader = {name, description}\` (the header its verifier reads)`);
  }
  return {
    flow,
    requestSchema,
    recordSchema: recordSchema as ZodSchema | undefined,
    pathParametersSchema: pathParametersSchema as ZodSchema | undefined,
    signatureHeader: flow.auth.includes('signature') ? (header as SignatureHeader) : undefined,
    ...(successAnswer === undefined ? {} : { successAnswer: successAnswerOf(where, successAnswer) }),
  };
}

/** The component of a route's own success answer: `<flow id>.success`. */
const successId = (flow: IngressFlow) => `${flow.id}.success`;

function successAnswerOf(where: string, value: unknown): SuccessAnswer {
  const answer = value as Partial<SuccessAnswer>;
  if (
    typeof answer.status !== 'number' ||
    answer.status < 200 ||
    answer.status > 299 ||
    typeof answer.description !== 'string' ||
    typeof answer.schema !== 'object'
  ) {
    throw new Error(`${where}: \`successAnswer\` must be {status (2xx), description, schema, example}`);
  }
  return answer as SuccessAnswer;
}

/** The document `npm run openapi` writes: the whole catalogue, package.json's name and version. */
export async function generateOpenApi(options: Partial<OpenApiOptions> = {}): Promise<OpenApiDocument> {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { name: string; version: string };
  return buildOpenApi(await loadIngressContracts(), { title: pkg.name, version: pkg.version, partners, ...options });
}

/**
 * What the checks of a zod schema that JSON Schema cannot express do, as a sentence for its
 * `description`: a normalisation (`z.trim()`, recognised by trying it) run before the other checks,
 * and refinements, named by the message a sender gets when one fails (and its path, if it has one).
 */
function unexpressedChecks(schema: z.core.$ZodType): string | undefined {
  const sentences: string[] = [];
  const refinements: string[] = [];
  for (const check of schema._zod.def.checks ?? []) {
    const def = check._zod.def as { check: string; tx?: (value: unknown) => unknown; error?: (issue: never) => unknown; path?: PropertyKey[] };
    if (def.check === 'overwrite') {
      let trims = false;
      try {
        trims = def.tx?.(' a ') === 'a';
      } catch {
        trims = false;
      }
      const hasMinimum = schema._zod.def.checks?.some((other) => other._zod.def.check === 'min_length');
      if (!trims) sentences.push('Normalised before its other checks.');
      else sentences.push(hasMinimum ? 'Trimmed before its other checks (whitespace alone does not count).' : 'Trimmed.');
    }
    if (def.check !== 'custom') continue;
    let message: unknown;
    try {
      message = def.error?.({} as never);
    } catch {
      message = undefined;
    }
    const text = typeof message === 'string' ? message : (message as { message?: string } | undefined)?.message;
    const named = text ? `"${text}"` : 'a further check';
    refinements.push(def.path?.length ? `${formatPath(def.path)}: ${named}` : named);
  }
  if (refinements.length > 0) sentences.push(`Also refused, by checks JSON Schema does not express (their 400 message): ${refinements.join('; ')}.`);
  return sentences.length > 0 ? sentences.join(' ') : undefined;
}

const SCHEMA_REF = '#/components/schemas/';
/** Placed before each registry id by zod, rewritten to a component reference afterwards. */
const SENTINEL = 'urn:bridge-openapi:';
const SHARED = '__shared';

/** `urn:…:<id>` -> `#/components/schemas/<id>`; `urn:…:__shared#/$defs/<name>` -> `#/components/schemas/shared.<name>`. */
function componentRef(ref: string): string {
  if (!ref.startsWith(SENTINEL)) throw new Error(`unexpected $ref ${ref} in a generated schema`);
  const id = ref.slice(SENTINEL.length);
  const shared = `${SHARED}#/$defs/`;
  return SCHEMA_REF + (id.startsWith(shared) ? `shared.${id.slice(shared.length)}` : id);
}

function rewriteRefs(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteRefs(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const object = node as JsonSchema;
  if (typeof object.$ref === 'string') object.$ref = componentRef(object.$ref);
  for (const value of Object.values(object)) rewriteRefs(value);
}

/**
 * Component schemas for every request, record and path-parameter schema, from one zod registry so
 * that a schema used by two routes (or a recursive one) becomes one component. Returns the
 * component id of each zod schema.
 */
function componentSchemas(contracts: readonly IngressContract[]): { schemas: Record<string, JsonSchema>; idOf: Map<ZodSchema, string> } {
  const registry = z.registry<{ id: string }>();
  const idOf = new Map<ZodSchema, string>();
  const register = (schema: ZodSchema | undefined, id: string) => {
    if (!schema || idOf.has(schema)) return;
    idOf.set(schema, id);
    registry.add(schema, { id });
  };
  for (const { flow, requestSchema, recordSchema, pathParametersSchema } of contracts) {
    register(requestSchema, `${flow.id}.request`);
    register(recordSchema, `${flow.id}.record`);
    register(pathParametersSchema, `${flow.id}.path`);
  }
  const generated = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `${SENTINEL}${id}`,
    override: ({ zodSchema, jsonSchema }) => {
      const notes = unexpressedChecks(zodSchema);
      if (notes) jsonSchema.description = [jsonSchema.description, notes].filter(Boolean).join(' ');
    },
  });
  const schemas: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
    if (id === SHARED) {
      for (const [name, def] of Object.entries((rest.$defs ?? {}) as Record<string, JsonSchema>)) schemas[`shared.${name}`] = def;
    } else {
      schemas[id] = rest;
    }
  }
  rewriteRefs(schemas);
  return { schemas, idOf };
}

const isOpen = (schema: unknown) => typeof schema === 'object' && schema !== null && !Array.isArray(schema) && Object.keys(schema).length === 0;
/** `z.record(z.string(), z.unknown())`: any object. */
const isOpenObject = (schema: JsonSchema) =>
  schema.type === 'object' &&
  schema.properties === undefined &&
  (schema.additionalProperties === undefined || isOpen(schema.additionalProperties)) &&
  Object.keys(schema).every((key) => ['type', 'propertyNames', 'additionalProperties'].includes(key));

/**
 * Puts the record schema where the request schema leaves its records open: array items that
 * accept anything (`z.array(z.unknown())`), and, at the top, the any-object branch of a body that is
 * one record or an array of them. Returns how many places it filled.
 */
function fillRecords(requestSchema: JsonSchema, record: JsonSchema): number {
  let filled = 0;
  const walk = (node: JsonSchema, top: boolean) => {
    if (node.type === 'array' && isOpen(node.items)) {
      node.items = { ...record };
      filled++;
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = node[key];
      if (!Array.isArray(branches)) continue;
      branches.forEach((branch: JsonSchema, index) => {
        if (top && isOpenObject(branch)) {
          branches[index] = { ...record };
          filled++;
        } else walk(branch, false);
      });
    }
    if (typeof node.items === 'object' && node.items !== null) walk(node.items as JsonSchema, false);
    for (const property of Object.values((node.properties ?? {}) as Record<string, JsonSchema>)) walk(property, false);
  };
  walk(requestSchema, true);
  return filled;
}

/** `/a/{b}/c` -> `['b']`. */
export function pathParameterNames(routePath: string): string[] {
  return [...new RouteTemplate(routePath).parameters];
}

const FIELD_PATH = 'The failing field: keys joined with `.`, array indexes as `[i]`, e.g. `[0].email` or `events[3].name`; `(body)` for the body as a whole.';

/** Shapes every route answers with (functions/core/ingress.ts, errors.ts, validation.ts). */
function contractSchemas(): Record<string, JsonSchema> {
  const issues = { type: 'array', minItems: 1, items: { $ref: `${SCHEMA_REF}FieldIssue` } };
  return {
    FieldIssue: {
      type: 'object',
      description: 'One failing field of a request (zod issue): where and why; never the value sent.',
      properties: { path: { type: 'string', description: FIELD_PATH }, message: { type: 'string' } },
      required: ['path', 'message'],
      additionalProperties: false,
    },
    Accepted: {
      type: 'object',
      description:
        "The request's records are durably queued. `accepted`: records queued; `skipped`: valid records deliberately " +
        'not forwarded (a setting of the route); `rejected`: records refused one by one, by index, the rest of ' +
        'the request still accepted.',
      properties: {
        accepted: { type: 'integer', minimum: 0 },
        skipped: { type: 'integer', minimum: 1 },
        rejected: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            properties: { index: { type: 'integer', minimum: 0, description: "Position of the record in the request's list" }, issues },
            required: ['index', 'issues'],
            additionalProperties: false,
          },
        },
      },
      required: ['accepted'],
      additionalProperties: false,
    },
    ValidationFailure: {
      type: 'object',
      description:
        'Bad JSON (`issues: [{path: "(body)", message: "not valid JSON"}]`), a body (or path parameter) failing ' +
        'its schema, or a request none of whose records is valid. `error` sums it up (`invalid request body: ' +
        '<paths>`, `body is not valid JSON`, `invalid path: <parameter>`); `issues` names each failing field. ' +
        'Nothing of the request is queued.',
      properties: { error: { type: 'string' }, issues },
      required: ['error', 'issues'],
      additionalProperties: false,
    },
    Error: {
      type: 'object',
      description: 'A refusal from the bridge: what went wrong, without internals.',
      properties: { error: { type: 'string' } },
      required: ['error'],
      additionalProperties: false,
    },
    GatewayMessage: {
      type: 'object',
      description: "An answer of API Gateway itself (or of the local server standing in for it), before the route's function runs.",
      properties: { message: { type: 'string' } },
      required: ['message'],
      additionalProperties: false,
    },
  };
}

const json = (schema: JsonSchema, example?: unknown) => ({ 'application/json': { schema, ...(example === undefined ? {} : { example }) } });
const ref = (name: string) => ({ $ref: `${SCHEMA_REF}${name}` });

function contractResponses(maxBodyBytes: number): Record<string, JsonSchema> {
  return {
    Unauthorized: {
      description: 'Missing or wrong credentials, or a token sent in a way this route does not accept (the message says which it accepts). Nothing is queued.',
      content: json(ref('Error'), { error: 'missing credentials' }),
    },
    PayloadTooLarge: {
      description:
        `The body is over ${maxBodyBytes} bytes (MAX_BODY_BYTES), or a record of it would be over ${MAX_SQS_BATCH_BYTES} ` +
        `bytes once queued (one SQS message); nothing is queued. Over API Gateway's own 10 MB limit, API Gateway ` +
        `answers \`{"message": "Request Entity Too Large"}\`.`,
      content: json({ anyOf: [ref('Error'), ref('GatewayMessage')] }, { error: `body exceeds ${maxBodyBytes} bytes` }),
    },
    ServerError: {
      description:
        'Our own fault (e.g. the queue could not be reached), never with internals: retry the request. A retry ' +
        'never delivers a record twice. API Gateway answers `{"message": ...}` when the function could not run.',
      content: json({ anyOf: [ref('Error'), ref('GatewayMessage')] }, { error: 'internal error, please retry' }),
    },
  };
}

function securitySchemes(contracts: readonly IngressContract[]): {
  schemes: Record<string, JsonSchema>;
  keyOf: (contract: IngressContract, scheme: AuthScheme) => string;
} {
  const schemes: Record<string, JsonSchema> = {};
  const used = new Set(contracts.flatMap((contract) => contract.flow.auth));
  if (used.has('bearer')) {
    schemes.bearer = {
      type: 'http',
      scheme: 'bearer',
      description:
        "The partner's shared inbound token: `Authorization: Bearer <token>`, compared in constant time. Locally, " +
        "the token `npm start` prints (or INBOUND_TOKEN); in AWS, the partner's inbound secret.",
    };
  }
  if (used.has('basic')) {
    schemes.basic = {
      type: 'http',
      scheme: 'basic',
      description:
        'The same inbound token as the password of `Authorization: Basic base64(user:token)` (any user name), ' +
        'only on routes whose sender offers Basic auth alone.',
    };
  }
  if (used.has('query')) {
    schemes.query = {
      type: 'apiKey',
      in: 'query',
      name: 'token',
      description: 'The same inbound token as `?token=<token>`, only on routes whose sender can set nothing but a URL.',
    };
  }
  // One scheme per signature header; `signature` when every signing route uses the same one.
  const headers = [...new Map(contracts.filter((c) => c.signatureHeader).map((c) => [c.signatureHeader!.name, c.signatureHeader!])).values()];
  const signatureKey = (header: SignatureHeader) => (headers.length === 1 ? 'signature' : `signature.${header.name}`);
  for (const header of headers) {
    schemes[signatureKey(header)] = { type: 'apiKey', in: 'header', name: header.name, description: header.description };
  }
  const keyOf = (contract: IngressContract, scheme: AuthScheme) => (scheme === 'signature' ? signatureKey(contract.signatureHeader!) : scheme);
  return { schemes, keyOf };
}

/** What the route answers to `{}` when its schema refuses it: the real 400 body, by the ingress's own `validate`. */
function badRequestExample(schema: ZodSchema): { error: string; issues: FieldIssue[] } | undefined {
  try {
    validate(schema, {});
    return undefined;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { error: error.message, issues: error.issues };
  }
}

const AUTH_TEXT: Record<AuthScheme, string> = {
  bearer: '`Authorization: Bearer <token>`',
  query: '`?token=<token>`',
  basic: '`Authorization: Basic` (the token as the password)',
  signature: 'a signature header',
};

function operation(
  contract: IngressContract,
  requestId: string,
  recordId: string | undefined,
  parameters: JsonSchema[],
  keyOf: (c: IngressContract, s: AuthScheme) => string,
  maxBodyBytes: number,
): JsonSchema {
  const { flow } = contract;
  const auth = flow.auth.map((scheme) => (scheme === 'signature' ? `\`${contract.signatureHeader!.name}\`` : AUTH_TEXT[scheme]));
  const example = badRequestExample(contract.requestSchema);
  const description = [
    `Authentication: ${auth.join(' or ')}; a credential sent any other way is refused with 401.`,
    recordId
      ? `Records are checked one by one against \`${recordId}\`: a record that fails is refused by index in the ` +
        `202's \`rejected\` (with the route's further checks, which its issues name) while the others are queued; ` +
        `400 when none is valid.`
      : undefined,
    `Answers ${contract.successAnswer?.status ?? 202} only once every record is durably queued; nothing of a refused request is queued.`,
  ].filter(Boolean);
  return {
    operationId: flow.id,
    summary: flow.description,
    description: description.join('\n\n'),
    tags: [flow.source],
    ...(parameters.length > 0 ? { parameters } : {}),
    requestBody: {
      required: true,
      description: `JSON, at most ${maxBodyBytes} bytes (413 beyond).`,
      content: json(ref(requestId)),
      'x-max-body-bytes': maxBodyBytes,
    },
    security: flow.auth.map((scheme) => ({ [keyOf(contract, scheme)]: [] })),
    responses: {
      ...(contract.successAnswer
        ? {
            [String(contract.successAnswer.status)]: {
              description: contract.successAnswer.description,
              content: json(ref(successId(flow)), contract.successAnswer.example),
            },
          }
        : { '202': { description: 'Durably queued.', content: json(ref('Accepted'), { accepted: 1 }) } }),
      '400': {
        description: 'Bad JSON, or schema errors: `issues` names each failing field path.',
        content: json(ref('ValidationFailure'), example),
      },
      '401': { $ref: '#/components/responses/Unauthorized' },
      '413': { $ref: '#/components/responses/PayloadTooLarge' },
      '429': {
        description:
          `API Gateway's throttle of this route (${flow.throttle.rateLimit} requests per second, bursts of ${flow.throttle.burstLimit}; ` +
          `not enforced by npm start): retry later.`,
        content: json(ref('GatewayMessage'), { message: 'Too Many Requests' }),
      },
      '5XX': { $ref: '#/components/responses/ServerError' },
    },
  };
}

/**
 * Each route's operation under its path. A route with a record schema gets its own copy of its
 * request schema (in `routeSchemas`), with its records filled in.
 */
function routePaths(
  contracts: readonly IngressContract[],
  routeSchemas: Record<string, JsonSchema>,
  idOf: Map<ZodSchema, string>,
  keyOf: (c: IngressContract, s: AuthScheme) => string,
  maxBodyBytes: number,
): OpenApiDocument['paths'] {
  const paths: OpenApiDocument['paths'] = {};
  for (const contract of contracts) {
    const { flow } = contract;
    const requestId = idOf.get(contract.requestSchema)!;
    const recordId = contract.recordSchema ? idOf.get(contract.recordSchema) : undefined;
    if (recordId) {
      // The route's own copy of its request schema, with its records filled in.
      const filled = structuredClone(routeSchemas[requestId]!);
      if (fillRecords(filled, { $ref: `${SCHEMA_REF}${recordId}` }) === 0) {
        throw new Error(`${flow.id}: exports a recordSchema, but its requestSchema leaves no record open (z.array(z.unknown()))`);
      }
      routeSchemas[requestId] = filled;
    }
    const pathSchema = contract.pathParametersSchema ? routeSchemas[idOf.get(contract.pathParametersSchema)!] : undefined;
    const pathProperties = (pathSchema?.properties ?? {}) as Record<string, JsonSchema>;
    const parameters = pathParameterNames(flow.path).map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: pathProperties[name] ?? { type: 'string' },
    }));
    const method = flow.method.toLowerCase();
    paths[flow.path] = { ...paths[flow.path], [method]: operation(contract, requestId, recordId, parameters, keyOf, maxBodyBytes) };
  }
  return paths;
}

/** The document, from routes whose modules are already loaded (pure: no I/O). */
export function buildOpenApi(contracts: readonly IngressContract[], options: OpenApiOptions): OpenApiDocument {
  const maxBodyBytes = options.maxBodyBytes ?? z.parse(configSchema, {}).MAX_BODY_BYTES;
  const { schemas: routeSchemas, idOf } = componentSchemas(contracts);
  const { schemes, keyOf } = securitySchemes(contracts);
  const paths = routePaths(contracts, routeSchemas, idOf, keyOf, maxBodyBytes);
  // Path parameters are documented on their operations; their object schemas are not components.
  for (const contract of contracts) if (contract.pathParametersSchema) delete routeSchemas[idOf.get(contract.pathParametersSchema)!];
  // A route that answers its success otherwise (a facade) has that answer's schema as a component of its own.
  for (const contract of contracts) if (contract.successAnswer) routeSchemas[successId(contract.flow)] = contract.successAnswer.schema;

  const owners = new Set(contracts.map((contract) => contract.flow.source));
  const tags = [...owners].map((owner) => ({
    name: owner,
    description: options.partners?.find((partner) => partner.id === owner)?.description ?? owner,
  }));

  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: options.title,
      version: options.version,
      description: [
        'The inbound routes of the bridge: partner callbacks and webhooks. Each route authenticates the sender, ' +
          'validates the JSON body (a 400 names each failing field path), queues its records durably and answers ' +
          '`202 {"accepted": n}` once they are all queued; delivery to the destination happens after, within its ' +
          'rate limits.',
        'Every route answers 202 (queued), 400 (bad JSON or schema errors, `issues` naming each field), 401 (missing ' +
          'or wrong credentials), 413 (body over the size limit), 5xx (our own fault, without internals: retry; ' +
          'a retry never delivers a record twice).',
        'Generated from the catalogue and from the zod schemas the routes validate with (`npm run openapi`; served ' +
          'by `npm start` at /openapi.json): do not edit by hand. Schemas describe what a sender may send (zod ' +
          'input side). Checks JSON Schema cannot express are named in the description of the schema they belong ' +
          'to: refinements ("Also refused, by checks JSON Schema does not express", with the message a sender gets), ' +
          'and strings trimmed before their length is checked. Ids accepted as a string or a number are kept as ' +
          'strings; defaults are applied after validation.',
      ].join('\n\n'),
    },
    servers: [
      { url: options.localUrl ?? DEFAULT_LOCAL_URL, description: 'npm start (destinations sandboxed unless their URLs are set)' },
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: "The deployed API: the stack's BaseUrl output (a custom domain, when configured, replaces this host).",
        variables: {
          apiId: { default: 'your-api-id', description: 'The HTTP API id (BaseUrl output)' },
          region: { default: 'us-east-1', description: 'The region the stack is deployed in' },
        },
      },
    ],
    tags,
    paths,
    components: {
      schemas: { ...contractSchemas(), ...routeSchemas },
      responses: contractResponses(maxBodyBytes),
      securitySchemes: schemes,
    },
  };
}

/** The document as `npm run openapi` writes it (stable: same catalogue, same bytes). */
export function serialise(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
