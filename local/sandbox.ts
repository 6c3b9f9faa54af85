import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'csv-parse';

/** Destinations the sandbox stands in for, each under its own path prefix. */
export type SandboxDestination = 'braze' | 'seen' | 'lytics';

export interface RecordedRequest {
  destination: SandboxDestination;
  method: string;
  path: string;
  /** Whether a credential was presented (its value is never kept). */
  authenticated: boolean;
  body: unknown;
  at: string;
}

/**
 * The built-in recorder for destinations whose URL is not set: answers as the real API does on
 * success, prints one line per request and keeps them for GET /_sandbox/requests.
 */
export class Sandbox {
  readonly requests: RecordedRequest[] = [];
  private server?: Server;
  private port = 0;

  constructor(private readonly log: (line: string) => void) {}

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
  url(destination: SandboxDestination): string {
    return `http://127.0.0.1:${this.port}/${destination}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    let body: unknown;
    if (url.pathname.includes('/collect/bulk/')) {
      // A bulk CSV can be hundreds of MB: count its records as it streams (quoted newlines
      // included, as Lytics parses them), keep none of it.
      let records = 0;
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      try {
        for await (const _record of req.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true }))) records++;
      } catch {
        /* malformed CSV: the count stops where parsing did */
      }
      body = { csv: { bytes, rows: Math.max(0, records - 1) } };
    } else {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
    }
    const [, destination, ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}${url.search}`;
    const recorded: RecordedRequest = {
      destination: destination as SandboxDestination,
      method: req.method ?? 'GET',
      path,
      authenticated: Boolean(req.headers.authorization),
      body,
      at: new Date().toISOString(),
    };
    this.requests.push(recorded);
    const answer = answerFor(recorded);
    this.log(`sandbox ${destination} ${recorded.method} ${path} -> ${answer.status} ${answer.summary}`);
    return answer;
  }
}

function answerFor(request: RecordedRequest): { status: number; body: unknown; summary: string } {
  if (request.destination === 'braze' && request.path === '/users/track') {
    const body = (request.body ?? {}) as Record<string, unknown[] | undefined>;
    const attributes = body.attributes?.length ?? 0;
    const events = body.events?.length ?? 0;
    const purchases = body.purchases?.length ?? 0;
    return {
      status: 201,
      body: {
        message: 'success',
        ...(attributes ? { attributes_processed: attributes } : {}),
        ...(events ? { events_processed: events } : {}),
        ...(purchases ? { purchases_processed: purchases } : {}),
      },
      summary: `${attributes + events + purchases} object(s)`,
    };
  }
  if (request.destination === 'seen' && /^\/v1\/campaigns\/[^/]+\/receivers\/?$/.test(request.path)) {
    const count = Array.isArray(request.body) ? request.body.length : 0;
    return { status: 201, body: { created: count }, summary: `${count} receiver(s)` };
  }
  if (request.destination === 'lytics' && /^\/collect\/(json|bulk)\/[^/?]+/.test(request.path)) {
    const csv = (request.body as { csv?: { rows: number } } | undefined)?.csv;
    const count = Array.isArray(request.body) ? request.body.length : csv ? csv.rows : request.body ? 1 : 0;
    return { status: 200, body: { status: 200, message: 'success', data: { message_count: count, rejected_count: 0 } }, summary: `${count} record(s)` };
  }
  return { status: 404, body: { message: 'not found' }, summary: 'unknown path' };
}
