import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

interface Builtins {
  request: typeof import('node:http')['request'];
  requestTls: typeof import('node:https')['request'];
  pipeline: typeof import('node:stream')['pipeline'];
  zlib: Pick<typeof import('node:zlib'), 'createGunzip' | 'createInflate' | 'createBrotliDecompress'>;
}
let builtins: Promise<Builtins> | undefined;

/**
 * Node's HTTP, stream and zlib modules, loaded at the first call: every ingress bundles this client
 * and never calls it, and loading them when the bundle is imported cost each ingress's cold start
 * about a fifth (import 0.69-0.73x the old bundle against 0.53-0.59x; docs/benchmarks.md).
 */
function loadBuiltins(): Promise<Builtins> {
  builtins ??= Promise.all([import('node:http'), import('node:https'), import('node:stream'), import('node:zlib')]).then(
    ([http, https, stream, zlib]): Builtins => ({ request: http.request, requestTls: https.request, pipeline: stream.pipeline, zlib }),
  );
  return builtins;
}

/** One attempt as the client hands it to the network: redirects are never followed. */
interface TransportRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** The attempt's timeout: past it the attempt is abandoned and rejects with a `TimeoutError`, as `fetch` does. */
  timeoutMs: number;
}

/** The whole answer, its body read to the end and decoded as UTF-8. */
interface TransportAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends one request and reads its whole answer. */
export type Transport = (url: string, request: TransportRequest) => Promise<TransportAnswer>;

/**
 * A transport over a `fetch` (what tests inject): `redirect: 'manual'`, the body read as text, the
 * timeout a signal from `timeoutSignal` (AbortSignal.timeout; tests record the ms).
 */
export function fetchTransport(fetchImpl: typeof fetch, timeoutSignal: (ms: number) => AbortSignal = (ms) => AbortSignal.timeout(ms)): Transport {
  return async (url, request) => {
    const response = await fetchImpl(url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: timeoutSignal(request.timeoutMs),
      redirect: 'manual',
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
}

/**
 * The transport the functions use: `node:http` / `node:https` through Node's global agents, which keep
 * connections alive between calls (Node >= 19: `keepAlive`, sockets idle 5 s are closed; a socket the
 * server closed meanwhile fails the attempt as a network error, which the client retries). It does
 * what `fetch` did for us at about a third of the CPU a call (1,339 calls of 75 objects: 450 ms with
 * `fetch`, 156 ms with this, Node 24 on the bench machine; docs/benchmarks.md): no redirect is followed
 * (a 3xx is an answer, as `redirect: 'manual'`), the body is sent with its length, an encoded answer
 * (gzip, deflate, br) is decoded as `fetch` would, and an attempt past its timeout is abandoned (its
 * socket destroyed) and rejects with a `TimeoutError`, as `fetch` with `AbortSignal.timeout` does.
 * The timeout is a plain timer, not an AbortSignal: with `AbortSignal.timeout` and the listener
 * `node:http` hangs on a signal, 1,336 calls on loopback took 8-18% longer, and the core path's
 * delivery stage 17% longer (docs/benchmarks.md, fourth round). A text body is written as it is, its
 * length counted, not copied into a Buffer first.
 */
export const nodeTransport: Transport = async (url, request) => {
  const secure = url.startsWith('https:');
  if (!secure && !url.startsWith('http:')) throw new TypeError(`only http and https URLs are called, not ${url.slice(0, url.indexOf(':') + 1)}`);
  const node = await loadBuiltins();
  return new Promise<TransportAnswer>((resolve, reject) => {
    const { body } = request;
    const headers: Record<string, string> = { accept: '*/*', ...request.headers };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    let timedOut: Error | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (error: unknown) => {
      clearTimeout(timer);
      reject(timedOut ?? error);
    };
    const outgoing = (secure ? node.requestTls : node.request)(url, { method: request.method, headers }, (response) => {
      const chunks: Buffer[] = [];
      const answer = decoded(response, node);
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('error', fail);
      // An answer cut before its end (the socket closed early) fails; only a whole one resolves.
      response.on('aborted', () => fail(new Error('the answer was cut before its end')));
      answer.on('end', () => {
        if (!response.complete) return fail(new Error('the answer was cut before its end'));
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, headers: toHeaders(response.headers), text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    timer = setTimeout(() => {
      timedOut = new DOMException(`no answer within ${request.timeoutMs} ms`, 'TimeoutError');
      outgoing.destroy(timedOut);
    }, request.timeoutMs);
    outgoing.on('error', fail);
    outgoing.end(body);
  });
};

/** The answer's body, decoded by its `content-encoding` (what `fetch` decodes). */
function decoded(response: IncomingMessage, { pipeline, zlib }: Builtins): Readable {
  const encoding = String(response.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : undefined;
  // pipeline: a failure of either stream (a cut answer, a corrupt one) fails the read.
  return decoder ? pipeline(response, decoder, () => {}) : response;
}

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const one of value) headers.append(name, one);
    else headers.set(name, value);
  }
  return headers;
}
