/// <reference lib="esnext.disposable" />
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type IngressFlow, RouteTemplate } from '../functions/catalogue';
import type { HttpEvent, HttpResult } from '../functions/core/ingress';
import type { LambdaHandler } from './handlers';
import { lambdaContext } from './lambda-context';
import { refuseOtherHosts } from './operator-guard';
import { closeUnlessBodyRead, readBody } from './request-body';
import type { Sandbox } from './sandbox';

/** API Gateway's own cap on a request body. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;

/**
 * A page or API of the local run beside the flows' routes (paths starting with `/_`, `/`, and
 * `/openapi.json`): answers and returns true when the request is its own, returns false to let the
 * next one look.
 */
export type LocalRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/** A catalogue route and the handler that serves it. */
export interface IngressRoute {
  flow: IngressFlow;
  handler: LambdaHandler<HttpEvent, HttpResult>;
}

export interface GatewayOptions {
  port: number;
  ingress: readonly IngressRoute[];
  /**
   * The routes asked in order before the flows' routes (after the Host check of operator routes),
   * made once the port is known, before the first request is read.
   */
  localRoutes: (port: number) => readonly LocalRoute[];
  log: (line: string) => void;
}

const templates = new WeakMap<IngressFlow, RouteTemplate>();
/** A flow's route template, parsed once. */
function templateOf(flow: IngressFlow): RouteTemplate {
  const known = templates.get(flow);
  if (known) return known;
  const template = new RouteTemplate(flow.path);
  templates.set(flow, template);
  return template;
}

type Served = Omit<GatewayOptions, 'localRoutes'> & { localRoutes: readonly LocalRoute[] };

/** `GET /_sandbox/requests`: what the sandbox recorder received (credentials masked). */
export function sandboxRequestsRoute(sandbox: Pick<Sandbox, 'requests'>): LocalRoute {
  return async (req, res, url) => {
    if (req.method !== 'GET' || url.pathname !== '/_sandbox/requests') return false;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(sandbox.requests));
    return true;
  };
}

/**
 * The HTTP server shaped like API Gateway (HTTP API) in front of the same handler modules, closed
 * by `stack`. Answers with the port it listens on.
 */
export async function startGateway(options: GatewayOptions, stack: AsyncDisposableStack): Promise<number> {
  let localRoutes: readonly LocalRoute[] = [];
  const server: Server = createServer((req, res) => {
    closeUnlessBodyRead(req, res);
    void serve({ ...options, localRoutes }, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error, please retry' }));
    });
  });
  // Longer than the idle keep-alive of common clients (Node's fetch: 4 s, browsers and load
  // balancers: up to 60 s), as API Gateway and load balancers do: otherwise the server may close an
  // idle socket just as a client reuses it, and that request fails with ECONNRESET.
  server.keepAliveTimeout = 75_000;
  server.headersTimeout = 76_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      localRoutes = options.localRoutes((server.address() as AddressInfo).port);
      resolve();
    });
  });
  stack.defer(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections?.();
  });
  return (server.address() as AddressInfo).port;
}

async function serve({ ingress, localRoutes, log }: Served, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = Date.now();
  const url = new URL(req.url ?? '/', 'http://localhost');
  const send = (status: number, body: unknown, note = '') => {
    // A 413 closes its connection whatever was read (API Gateway's answer to a body over its cap).
    res.writeHead(status, { 'content-type': 'application/json', ...(status === 413 ? { connection: 'close' } : {}) });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
    if (!url.pathname.startsWith('/_')) log(`${req.method} ${url.pathname} ${status} ${Date.now() - started} ms${note}`);
  };
  // The console, /_sandbox and /_dlq answer only under this machine's name (403 otherwise).
  if (refuseOtherHosts(req, res, url)) return;
  for (const route of localRoutes) if (await route(req, res, url)) return;
  if (req.method === 'GET' && url.pathname === '/_health') return send(200, { ok: true });

  const match = ingress
    .map((route) => ({ route, params: route.flow.method === req.method ? templateOf(route.flow).match(url.pathname) : undefined }))
    .find((candidate) => candidate.params !== undefined);
  if (!match) return send(404, { message: 'Not Found' });

  const body = await readBody(req, API_GATEWAY_MAX_BODY);
  if (body === undefined) return send(413, { message: 'Request Entity Too Large' });
  const { flow, handler } = match.route;
  const result = await handler(httpEvent(req, url, body, flow, match.params ?? {}), lambdaContext(flow.id, 10));
  send(result.statusCode ?? 200, result.body ?? '', note(result.body));
}

/** What the terminal line adds to a flow's answer: ` accepted=N`, or the error it gave. */
function note(body: string | undefined): string {
  try {
    const parsed = JSON.parse(body ?? '{}') as { accepted?: number; error?: string };
    return parsed.accepted !== undefined ? ` accepted=${parsed.accepted}` : parsed.error ? ` (${parsed.error})` : '';
  } catch {
    return '';
  }
}

/** The event API Gateway (HTTP API, payload 2.0) passes a route's function. */
function httpEvent(req: IncomingMessage, url: URL, body: Buffer, flow: IngressFlow, params: Record<string, string>): HttpEvent {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : (v ?? '')]));
  const routeKey = `${flow.method} ${flow.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    pathParameters: Object.keys(params).length ? params : undefined,
    body: body.toString('utf8'),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: req.method ?? 'POST',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}
