/**
 * `bridge doctor`: for each destination the configuration names, one harmless authenticated call
 * with the configured credentials, and a table of what works, what is refused and why. Each call
 * (and how to read its answer) is the partner's own, declared beside it (functions/<partner>/doctor.ts,
 * the `doctor` of its catalogue entry); where a partner's API has no harmless call, the check says
 * so and why. A consumer that meets a configuration fault (401, 403, 404, a redirect) points here.
 *
 * Where the settings come from:
 * - `--local`: the environment `npm start` reads (core/config.ts and every partner's settings,
 *   checked as npm start checks them; credentials from the `<PREFIX>_API_*` variables). A
 *   destination whose URL is unset is sandboxed by npm start: nothing to check.
 * - otherwise a deployed stack (`--stack`, default BrazePartnerBridge): the environment of each
 *   destination's consumer function (CloudFormation ListStackResources, Lambda
 *   GetFunctionConfiguration) and the secret it names (Secrets Manager GetSecretValue). Credentials
 *   stay in memory; no URL is printed (a partner may issue one with its key inside), only the setting's name.
 *
 * Redirects are never followed (`redirect: 'manual'`): a 3xx is reported, and the credential
 * never reaches the other host. Exit 0 when every check is ok, cannot be made or has nothing to
 * check; 1 when any is refused, unreachable or misconfigured.
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { catalogue, partners } from '../functions/catalogue';
import {
  type DoctorCheck,
  type DoctorRequest,
  type DoctorVerdict,
  envPrefix,
  type Partner,
  type SecretField,
  secretFields,
} from '../functions/core/catalogue-types';
import { classifyAnswer, joinUrl } from '../functions/core/http';
import { EnvSecretStore, secretIdVariable } from '../functions/core/secrets';
import { checkedConfig } from '../local/sandbox';
import { DEFAULT_STACK } from './dlq';
import { type CliIo, CommandFailed, lineWriter, prettyJson, UsageError } from './io';

export const DEFAULT_DOCTOR_TIMEOUT_SECONDS = 10;

export interface DoctorOptions {
  stack?: string;
  local?: boolean;
  region?: string;
  json?: boolean;
  /** Longest wait for one answer, in seconds. */
  timeout?: number;
}

type DoctorResult = 'ok' | 'refused' | 'unreachable' | 'misconfigured' | 'cannot check' | 'sandboxed' | 'not deployed';

/** Results that make `doctor` exit 1. */
const FAILING: ReadonlySet<DoctorResult> = new Set(['refused', 'unreachable', 'misconfigured']);

interface DoctorRow {
  destination: string;
  check: string;
  result: DoctorResult;
  /** Why, and what to do, in one line (no credential, no URL). */
  why: string;
  /** The HTTP status the destination answered, when it answered. */
  status?: number;
  /** Where the check and its reading come from (the vendor's docs, OpenAPI or SDK). */
  source: string;
}

export type Credentials = Partial<Record<SecretField, string>>;

/** A check's destination as the target configures it, or why there is nothing to call. */
type Resolved =
  | { kind: 'skip'; result: DoctorResult; why: string }
  | {
      kind: 'configured';
      /** The settings the destination's consumer reads (an environment). */
      settings: Readonly<Record<string, string | undefined>>;
      credentials: () => Promise<Credentials>;
      /** How to name a credential field to the operator: `<PREFIX>_API_KEY`, `api_key of the <partner> secret (<PREFIX>_SECRET_ID)`. */
      credentialName: (field: SecretField) => string;
    };

/** Where a destination's settings and credentials come from (`bridge doctor`, `bridge setup`). */
export interface Target {
  /** What the table is about, in a few words. */
  title: string;
  json: Record<string, unknown>;
  resolve(partner: Partner, check: Pick<DoctorCheck, 'urlSetting' | 'queues'>): Promise<Resolved>;
  close(): void;
}

/** A fault of the configuration found before any call (an unreadable secret): said with names, never values. */
export class ConfigurationFault extends Error {}

const skip = (result: DoctorResult, why: string): Resolved => ({ kind: 'skip', result, why });

/** The set fields the partner declares (functions/<partner>/partner.ts), and only those: nothing else of a secret is held. */
const declaredFields = (partner: Partner, values: Readonly<Record<string, unknown>>): Credentials =>
  Object.fromEntries(secretFields(partner.secret).flatMap((name) => (typeof values[name] === 'string' && values[name] !== '' ? [[name, values[name]]] : [])));

// ---- where the settings come from ----

/** npm start's configuration: the environment, checked as npm start checks it. */
export function localTarget(env: Readonly<Record<string, string | undefined>>): Target {
  const config = checkedConfig(env, partners);
  const store = new EnvSecretStore(config.env);
  return {
    title: 'the local configuration (the environment npm start reads)',
    json: { kind: 'local' },
    async resolve(partner, check) {
      if (!config.env[check.urlSetting]) {
        const urlSettings = partner.sandbox ? [partner.sandbox.urlSetting, ...(partner.sandbox.otherUrlSettings ?? [])] : [];
        const other = urlSettings.find((name) => config.env[name]);
        if (other) return skip('misconfigured', `${check.urlSetting} is not set while ${other} is: set it, or unset both for the sandbox`);
        return skip('sandboxed', `sandboxed (no URL set): nothing to check (set ${check.urlSetting} to check the real API)`);
      }
      return {
        kind: 'configured',
        settings: config.env,
        credentials: async () => declaredFields(partner, await store.get(partner.id)),
        credentialName: (field) => `${envPrefix(partner.id)}_${field.toUpperCase()}`,
      };
    },
    close() {},
  };
}

/** A deployed stack: each destination's consumer function's environment and the secret it names. */
export async function awsTarget(stack: string, region: string | undefined): Promise<Target> {
  const clientConfig = region ? { region } : {};
  const cloudFormation = new CloudFormationClient(clientConfig);
  const lambda = new LambdaClient(clientConfig);
  const secretsManager = new SecretsManagerClient(clientConfig);
  const close = () => {
    cloudFormation.destroy();
    lambda.destroy();
    secretsManager.destroy();
  };
  try {
    // Consumers live under the stack's `Delivery` scope (lib/bridge-stack.ts); each carries its flow in BRIDGE_FLOW_ID.
    const functionNames: string[] = [];
    let token: string | undefined;
    do {
      const page = await cloudFormation.send(new ListStackResourcesCommand({ StackName: stack, NextToken: token }));
      for (const resource of page.StackResourceSummaries ?? []) {
        if (resource.ResourceType === 'AWS::Lambda::Function' && resource.LogicalResourceId?.startsWith('Delivery') && resource.PhysicalResourceId) {
          functionNames.push(resource.PhysicalResourceId);
        }
      }
      token = page.NextToken;
    } while (token);
    const environments = new Map<string, Record<string, string>>();
    for (const answer of await Promise.all(functionNames.map((name) => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }))))) {
      const variables = answer.Environment?.Variables ?? {};
      if (variables.BRIDGE_FLOW_ID) environments.set(variables.BRIDGE_FLOW_ID, variables);
    }

    const secrets = new Map<string, Promise<Credentials>>();
    const readSecret = async (secretId: string, partner: Partner, variable: string): Promise<Credentials> => {
      const owner = partner.id;
      let text: string | undefined;
      try {
        text = (await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
      } catch (error) {
        throw new ConfigurationFault(`cannot read the ${owner} secret (${variable}): ${(error as Error).name}`);
      }
      let value: unknown;
      try {
        value = JSON.parse(text ?? '');
      } catch {
        value = undefined;
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigurationFault(`the ${owner} secret (${variable}) is not a JSON object`);
      return declaredFields(partner, value as Record<string, unknown>);
    };

    return {
      title: `stack ${stack}${region ? ` (${region})` : ''}`,
      json: { kind: 'aws', stack, ...(region ? { region } : {}) },
      async resolve(partner, check) {
        const queueIds = check.queues ?? partner.queues.map((queue) => queue.id);
        const settings = queueIds.map((id) => environments.get(catalogue.queue(id).consumer.flowId)).find((found) => found !== undefined);
        if (!settings) return skip('not deployed', `the stack has no consumer of ${queueIds.join(', ')}: nothing to check`);
        if (!settings[check.urlSetting]) return skip('misconfigured', `the consumer's ${check.urlSetting} is not set`);
        const variable = secretIdVariable(partner.id);
        const secretId = settings[variable];
        if (!secretId) return skip('misconfigured', `the consumer has no ${variable}`);
        return {
          kind: 'configured',
          settings,
          credentials: () => {
            if (!secrets.has(secretId)) secrets.set(secretId, readSecret(secretId, partner, variable));
            return secrets.get(secretId)!;
          },
          credentialName: (field) => `${field} of the ${partner.id} secret (${variable})`,
        };
      },
      close,
    };
  } catch (error) {
    close();
    throw new CommandFailed(`cannot read stack ${stack}: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

// ---- one call ----

interface Answer {
  status: number;
  text: string;
  /** For a 3xx: where its Location points, relative to the called host. */
  redirect?: 'another host' | 'the same host' | 'nowhere given';
}

/** The first `limit` bytes of a body; the rest is not read. */
async function readSome(response: Response, limit = 64 * 1024): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** Why a call had no answer, in words (never the URL). */
function networkFault(error: unknown, timeoutSeconds: number): string {
  const name = (error as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutSeconds} s`;
  const code = (error as { cause?: { code?: string } }).cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code && /CERT|TLS|SSL/.test(code)) return `TLS: ${code}`;
  return code ?? (error instanceof Error ? error.message : String(error));
}

export async function call(url: string, request: DoctorRequest, timeoutSeconds: number): Promise<Answer | { fault: string }> {
  try {
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      // Never follow: a redirect would carry the credential to wherever it points.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
    const text = await readSome(response);
    if (response.status < 300 || response.status >= 400) return { status: response.status, text };
    const location = response.headers.get('location');
    const redirect = !location ? 'nowhere given' : new URL(location, url).host === new URL(url).host ? 'the same host' : 'another host';
    return { status: response.status, text, redirect };
  } catch (error) {
    return { fault: networkFault(error, timeoutSeconds) };
  }
}

/** The message of an error body (`message`, `error`, `title` ...), on one line and short. */
function bodyMessage(text: string): string | undefined {
  let message: unknown;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    message = [body.message, body.error, body.title, body.detail].find((value) => typeof value === 'string' && value !== '');
  } catch {
    message = text.trim() || undefined;
  }
  if (typeof message !== 'string') return undefined;
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** The generic reading of an answer, from the one classification of the delivery core. */
function genericVerdict(answer: Answer, urlSetting: string, credentialNames: string): { result: DoctorResult; why: string } {
  const { status } = answer;
  const message = bodyMessage(answer.text);
  const said = message ? ` (${message})` : '';
  switch (classifyAnswer(status)) {
    case 'delivered':
      return { result: 'ok', why: `the credentials were accepted (${status})` };
    case 'config':
      if (status >= 300 && status < 400) {
        return {
          result: 'refused',
          why: `${status} redirect to ${answer.redirect}, not followed (a credential must not leave for it): check ${urlSetting} (https, the current host)`,
        };
      }
      if (status === 401) return { result: 'refused', why: `401: the key was rejected${said}: check ${credentialNames}` };
      if (status === 403) return { result: 'refused', why: `403: the key lacks a permission this call needs${said}: check its permissions` };
      if (status === 404) return { result: 'refused', why: `404: wrong endpoint: check ${urlSetting}` };
      return { result: 'refused', why: `${status}${said}: check ${urlSetting} and ${credentialNames}` };
    case 'retryable':
      return { result: 'unreachable', why: `${status}: the destination is ${status === 429 ? 'throttling' : 'failing'}${said}; try again later` };
    default:
      return { result: 'refused', why: `${status}${said}` };
  }
}

async function runCheck(partner: Partner, check: DoctorCheck, target: Target, timeoutSeconds: number, credentialValues: Set<string>): Promise<DoctorRow> {
  const row = (result: DoctorResult, why: string, status?: number): DoctorRow => ({
    destination: partner.id,
    check: check.name,
    result,
    why,
    ...(status !== undefined ? { status } : {}),
    source: check.source,
  });
  const resolved = await target.resolve(partner, check);
  if (resolved.kind === 'skip') return row(resolved.result, resolved.why);
  if ('cannotCheck' in check) return row('cannot check', check.cannotCheck);

  let credentials: Credentials;
  try {
    credentials = await resolved.credentials();
  } catch (error) {
    if (error instanceof ConfigurationFault) return row('misconfigured', error.message);
    throw error;
  }
  for (const value of Object.values(credentials)) if (value) credentialValues.add(value);
  const missing = partner.secret.outbound.filter((field) => !credentials[field]);
  if (missing.length > 0) return row('misconfigured', `no credential: ${missing.map(resolved.credentialName).join(', ')} not set`);

  const request = check.request(resolved.settings, (field) => credentials[field] ?? '');
  const answer = await call(joinUrl(resolved.settings[check.urlSetting]!, request.path), request, timeoutSeconds);
  if ('fault' in answer) return row('unreachable', `${answer.fault}: check ${check.urlSetting} and the network`);
  const verdict: DoctorVerdict | { result: DoctorResult; why: string } =
    check.read?.(answer) ?? genericVerdict(answer, check.urlSetting, partner.secret.outbound.map(resolved.credentialName).join(', '));
  return row(verdict.result, verdict.why, answer.status);
}

// ---- the command ----

/** Every credential value replaced by ****, wherever a destination's answer might have echoed one. */
export function redactor(values: ReadonlySet<string>): (text: string) => string {
  const secrets = [...values].filter((value) => value.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('****'), text);
}

export async function doctorCommand(options: DoctorOptions, io: CliIo): Promise<void> {
  if (options.local && options.stack) throw new UsageError('--local and --stack name different configurations: give one');
  const timeoutSeconds = options.timeout ?? DEFAULT_DOCTOR_TIMEOUT_SECONDS;
  const target = options.local ? localTarget(io.env ?? process.env) : await awsTarget(options.stack ?? DEFAULT_STACK, options.region ?? io.env?.AWS_REGION);
  const credentialValues = new Set<string>();
  let rows: DoctorRow[];
  try {
    const checks = partners.flatMap((partner) => (partner.doctor ?? []).map((check) => ({ partner, check })));
    rows = await Promise.all(checks.map(({ partner, check }) => runCheck(partner, check, target, timeoutSeconds, credentialValues)));
  } finally {
    target.close();
  }
  const redact = redactor(credentialValues);
  rows = rows.map((row) => ({ ...row, why: redact(row.why) }));
  const failing = rows.filter((row) => FAILING.has(row.result));

  const line = lineWriter(io.out);
  if (options.json) {
    line(prettyJson({ target: target.json, ok: failing.length === 0, checks: rows }));
  } else {
    line(`bridge doctor: ${target.title}`);
    const headers = { destination: 'destination', check: 'check', result: 'result' };
    const width = (key: keyof typeof headers) => Math.max(headers[key].length, ...rows.map((row) => row[key].length));
    const [dw, cw, rw] = [width('destination'), width('check'), width('result')];
    line(`${headers.destination.padEnd(dw)}  ${headers.check.padEnd(cw)}  ${headers.result.padEnd(rw)}  why`);
    for (const row of rows) line(`${row.destination.padEnd(dw)}  ${row.check.padEnd(cw)}  ${row.result.padEnd(rw)}  ${row.why}`);
    const counts = new Map<DoctorResult, number>();
    for (const row of rows) counts.set(row.result, (counts.get(row.result) ?? 0) + 1);
    line(`${rows.length} checks: ${[...counts].map(([result, count]) => `${count} ${result}`).join(', ')}`);
  }
  if (failing.length > 0) {
    throw new CommandFailed(
      `${failing.length} of ${rows.length} checks ${failing.length === 1 ? 'is' : 'are'} refused, unreachable ` +
        `or misconfigured: ${[...new Set(failing.map((row) => row.destination))].join(', ')}`,
    );
  }
}
