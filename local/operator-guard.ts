import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * True when the request names this machine (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`, any
 * port) in its Host header: what a browser on the laptop sends, and what a tunnel or a
 * DNS-rebinding page (`evil.example` resolving to 127.0.0.1) cannot.
 */
export function fromLoopback(req: IncomingMessage): boolean {
  const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '[::1]';
}

/**
 * The operator's routes of `npm start`: the console (`/`, `/_console...`), the sandbox's recorded
 * requests (`/_sandbox/...`, which hold request bodies), the DLQ admin API (`/_dlq...`, which shows
 * message bodies and moves messages) and any later `/_` route. Not `/_health` (nothing to read) nor
 * `/openapi.json` (public by design, served to any origin). The partners' routes never start with
 * `/_` and answer under any Host, as behind API Gateway.
 */
function isOperatorPath(pathname: string): boolean {
  return pathname === '/' || (pathname.startsWith('/_') && pathname !== '/_health');
}

/**
 * Answers 403 (and returns true) for an operator route reached under a name other than this
 * machine's (through a tunnel, or a DNS-rebinding page in the operator's browser).
 */
export function refuseOtherHosts(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  if (!isOperatorPath(url.pathname) || fromLoopback(req)) return false;
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
  res.end('The operator routes of npm start (console, /_sandbox, /_dlq) answer only on localhost (http://localhost:PORT/).\n');
  return true;
}
