import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { envPrefix, type Partner, type PartnerSandbox } from '../functions/core/catalogue-types';
import { type Config, loadConfig } from '../functions/core/config';
import { ConfigError } from '../functions/core/errors';
import type { SandboxAnswer } from '../functions/core/sandbox-types';
import { loadSettings } from '../functions/core/settings';

export interface RecordedRequest {
  /** The partner (or Braze) the request was meant for. */
  destination: string;
  method: string;
  path: string;
  /** Whether a credential was presented (its value is never kept). */
  authenticated: boolean;
  /** The request's headers, credentials masked (`Bearer ****`, `****`): what the flow would send. */
  headers: Record<string, string>;
  /** Kept for the most recent requests only (SandboxOptions.keepBodies): absent on older ones. */
  body?: unknown;
  at: string;
}

export interface SandboxOptions {
  /**
   * How many of the most recent requests keep their body (default 1,000): older ones keep their
   * line (destination, method, path, at) only, so a long `npm start` or a large job does not keep
   * every body it was sent.
   */
  keepBodies?: number;
  /**
   * Headers (lower case) that carry a partner's credential, beyond the generic ones masked always
   * (`authorization`, `proxy-authorization`, `cookie`): each partner declares its own (`secret.headers`
   * in functions/<partner>/partner.ts), and startSandboxFor passes them all.
   */
  secretHeaders?: readonly string[];
}

const DEFAULT_KEPT_BODIES = 1_000;

/**
 * The built-in recorder for destinations whose URL is not set: each partner's own sandbox answers
 * (functions/<partner>/sandbox.ts) answer as the real API does on success, under the partner's
 * path prefix (`/seen/...`); one line is printed per request and all are kept for
 * GET /_sandbox/requests (with their body for the most recent ones only).
 */
export class Sandbox {
  readonly requests: RecordedRequest[] = [];
  private server?: Server;
  private port = 0;
  private readonly keepBodies: number;
  private readonly secretHeaders: ReadonlySet<string>;

  constructor(
    private readonly log: (line: string) => void,
    private readonly partners: Readonly<Record<string, PartnerSandbox>>,
    options: SandboxOptions = {},
  ) {
    this.keepBodies = Math.max(0, options.keepBodies ?? DEFAULT_KEPT_BODIES);
    this.secretHeaders = new Set([...GENERIC_SECRET_HEADERS, ...(options.secretHeaders ?? []).map((name) => name.toLowerCase())]);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      // An answer (or the stream it opens) that throws is a 500, never an unhandled rejection.
      void this.handle(req)
        .then((answer) => this.send(res, answer))
        .catch((error: unknown) => {
          this.log(`sandbox ${req.method ?? 'GET'} ${req.url ?? '/'} -> 500 (${error instanceof Error ? error.message : String(error)})`);
          if (res.headersSent) res.destroy();
          else res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'sandbox error' }));
        });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Base URL standing in for a destination, e.g. `http://127.0.0.1:PORT/braze`. */
  url(destination: string): string {
    return `http://127.0.0.1:${this.port}/${destination}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** JSON, a raw body under its content-type, or a stream piped with backpressure. */
  private send(res: ServerResponse, answer: SandboxAnswer): void {
    if (answer.stream) {
      const produced = answer.stream();
      const source = 'pipe' in produced && typeof produced.pipe === 'function' ? produced : Readable.from(produced);
      res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/octet-stream' });
      // pipeline waits for the response to drain before reading on, destroys the response if the
      // stream fails (the client sees an aborted body) and destroys the stream if the client goes away.
      pipeline(source, res).catch((error: unknown) => {
        const code = (error as { code?: string }).code;
        if (code !== 'ERR_STREAM_PREMATURE_CLOSE') this.log(`sandbox stream failed: ${error instanceof Error ? error.message : String(error)}`);
      });
      return;
    }
    const raw = answer.contentType !== undefined && (typeof answer.body === 'string' || answer.body instanceof Uint8Array);
    res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
    res.end(raw ? (answer.body as string | Uint8Array) : JSON.stringify(answer.body));
  }

  private async handle(req: IncomingMessage): Promise<SandboxAnswer> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const [, destination = '', ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}${url.search}`;
    const partner = this.partners[destination];
    let body = await partner?.readBody?.(path, req);
    if (body === undefined) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
    }
    const recorded: RecordedRequest = {
      destination,
      method: req.method ?? 'GET',
      path,
      authenticated: [...this.secretHeaders].some((name) => name !== 'cookie' && req.headers[name] !== undefined),
      headers: maskedHeaders(req.headers, this.secretHeaders),
      body,
      at: new Date().toISOString(),
    };
    this.requests.push(recorded);
    const expired = this.requests[this.requests.length - 1 - this.keepBodies];
    if (expired) delete expired.body;
    const answer = partner?.answer({ method: recorded.method, path, body, baseUrl: this.url(destination) }) ?? {
      status: 404,
      body: { message: 'not found' },
      summary: 'unknown path',
    };
    this.log(`sandbox ${destination} ${recorded.method} ${path} -> ${answer.status} ${answer.summary}`);
    return answer;
  }
}

/**
 * Points each partner whose URL settings are all unset at the sandbox, with stand-in credentials,
 * and returns their ids; a partner with a URL set must have its real credentials set too
 * (SPEC section 5 names: `<PREFIX>_API_TOKEN` ...).
 */
function sandboxUnsetDestinations(env: Record<string, string | undefined>, partners: readonly Partner[], sandbox: Pick<Sandbox, 'url'>): string[] {
  const sandboxed: string[] = [];
  for (const partner of partners) {
    if (!partner.sandbox) continue;
    const urlVars = [partner.sandbox.urlSetting, ...(partner.sandbox.otherUrlSettings ?? [])];
    const secretVars = partner.secret.outbound.map((field) => `${envPrefix(partner.id)}_${field.toUpperCase()}`);
    const set = urlVars.find((name) => env[name]);
    if (set) {
      for (const name of secretVars) if (!env[name]) throw new ConfigError(`${set} is set, so ${name} must be set too`);
      continue;
    }
    for (const name of urlVars) env[name] = sandbox.url(partner.id);
    for (const name of secretVars) env[name] ??= `sandbox-${name.toLowerCase().replaceAll('_', '-')}`;
    sandboxed.push(partner.id);
  }
  return sandboxed;
}

/**
 * Starts the sandbox of `partners` and points at it each partner whose URL `env` leaves unset
 * (`env` is completed in place, see sandboxUnsetDestinations); returns the sandbox and the ids it
 * stands in for. A partner with a URL but no credentials fails here, the sandbox stopped.
 */
export async function startSandboxFor(
  partners: readonly Partner[],
  env: Record<string, string | undefined>,
  log: (line: string) => void,
  options: SandboxOptions = {},
): Promise<{ sandbox: Sandbox; sandboxed: string[] }> {
  const secretHeaders = partners.flatMap((partner) => partner.secret.headers ?? []);
  const sandbox = new Sandbox(log, sandboxesOf(partners), { secretHeaders, ...options });
  await sandbox.start();
  try {
    return { sandbox, sandboxed: sandboxUnsetDestinations(env, partners, sandbox) };
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}

/** The configuration `env` gives, with every one of `partners`' settings checked: a bad value fails here, naming the variable. */
export function checkedConfig(env: Readonly<Record<string, string | undefined>>, partners: readonly Partner[]): Config {
  const config = loadConfig(env);
  for (const partner of partners) loadSettings(partner.settings.schema, config.env);
  return config;
}

/** Each partner's sandbox answers, by partner id. */
function sandboxesOf(partners: readonly Partner[]): Record<string, PartnerSandbox> {
  return Object.fromEntries(partners.flatMap((partner) => (partner.sandbox ? [[partner.id, partner.sandbox] as const] : [])));
}

/** Headers that carry a credential in any HTTP API; a partner's own are declared in its folder (SandboxOptions.secretHeaders). */
const GENERIC_SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];
/** Transport headers that say nothing about what the flow sends. */
const TRANSPORT_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'accept-encoding',
  'accept',
  'accept-language',
  'sec-fetch-mode',
  'user-agent',
  'keep-alive',
  'transfer-encoding',
]);

/** A request's headers with every credential masked (its scheme kept: `Bearer ****`, `Basic ****`). */
function maskedHeaders(headers: IncomingMessage['headers'], secretHeaders: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || TRANSPORT_HEADERS.has(name)) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (secretHeaders.has(name)) {
      const scheme = /^(Bearer|Basic|Token)\s/i.exec(text)?.[1];
      out[name] = scheme ? `${scheme} ****` : '****';
    } else {
      out[name] = text;
    }
  }
  return out;
}
