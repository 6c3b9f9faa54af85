import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { envPrefix, type Partner, type PartnerSandbox } from '../functions/core/catalogue-types';
import { ConfigError } from '../functions/core/errors';

export interface RecordedRequest {
  /** The partner (or Braze) the request was meant for. */
  destination: string;
  method: string;
  path: string;
  /** Whether a credential was presented (its value is never kept). */
  authenticated: boolean;
  body: unknown;
  at: string;
}

/**
 * The built-in recorder for destinations whose URL is not set: each partner's own sandbox answers
 * (functions/<partner>/sandbox.ts) answer as the real API does on success, under the partner's
 * path prefix (`/seen/...`); one line is printed per request and all are kept for
 * GET /_sandbox/requests.
 */
export class Sandbox {
  readonly requests: RecordedRequest[] = [];
  private server?: Server;
  private port = 0;

  constructor(
    private readonly log: (line: string) => void,
    private readonly partners: Readonly<Record<string, PartnerSandbox>>,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
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

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
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
      authenticated: Boolean(req.headers.authorization ?? req.headers['api-token'] ?? req.headers['x-api-key']),
      body,
      at: new Date().toISOString(),
    };
    this.requests.push(recorded);
    const answer = partner?.answer({ method: recorded.method, path, body }) ?? { status: 404, body: { message: 'not found' }, summary: 'unknown path' };
    this.log(`sandbox ${destination} ${recorded.method} ${path} -> ${answer.status} ${answer.summary}`);
    return answer;
  }
}

/**
 * Points each partner whose URL settings are all unset at the sandbox, with stand-in credentials,
 * and returns their ids; a partner with a URL set must have its real credentials set too
 * (SPEC section 5 names: `<PREFIX>_API_TOKEN` ...).
 */
export function sandboxUnsetDestinations(env: Record<string, string | undefined>, partners: readonly Partner[], sandbox: Pick<Sandbox, 'url'>): string[] {
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

/** Each partner's sandbox answers, by partner id. */
export function sandboxesOf(partners: readonly Partner[]): Record<string, PartnerSandbox> {
  return Object.fromEntries(partners.flatMap((partner) => (partner.sandbox ? [[partner.id, partner.sandbox] as const] : [])));
}
