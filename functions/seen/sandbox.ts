import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

const LEGACY_RECEIVERS = /^\/v1\/campaigns\/[^/?]+\/receivers\/?(\?.*)?$/;
/** SEEN 2.0 data endpoints: the Run tab's `/v1/projects/{id}/data`, the docs' `/v1/workspaces/{id}/data`. */
const DATA = /^\/v1\/(projects|workspaces)\/[^/?]+\/data\/?(\?.*)?$/;
const TOKEN = /^\/oauth2\/token\/?(\?.*)?$/;

let issued = 0;

/**
 * What SEEN answers, for the local sandbox:
 * - legacy receivers API (docs.seen.io, SEEN API 1.0 Legacy: "Each request payload should be an
 *   array of JSON objects"): an array of receivers, 201;
 * - SEEN API 2.0 Create Data (docs.seen.io, "SEEN API 2.0 - Create Data"): one JSON object with
 *   `id` a string, 201 Created; an array is refused with 400 ("SEEN API accepts single JSON objects
 *   only. Arrays are not supported at the moment"), as is an object without a string id ("ID is a
 *   required field, and must be sent as a string");
 * - the OAuth2 token endpoint ("SEEN API 2.0 - Authorization"), form-encoded client credentials:
 *   a token as RFC 6749 section 5.1 shapes it (200, access_token, token_type, expires_in).
 */
export function seenSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method !== 'POST') return undefined;
  if (LEGACY_RECEIVERS.test(request.path)) {
    if (!Array.isArray(request.body))
      return { status: 400, body: { message: 'Each request payload should be an array of JSON objects' }, summary: 'not an array of receivers' };
    return { status: 201, body: { created: request.body.length }, summary: `${request.body.length} receiver(s)` };
  }
  if (DATA.test(request.path)) {
    const body = request.body;
    if (Array.isArray(body))
      return { status: 400, body: { message: 'SEEN API accepts single JSON objects only. Arrays are not supported' }, summary: 'an array: refused' };
    const id = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).id : undefined;
    if (typeof id !== 'string' || id === '')
      return { status: 400, body: { message: 'id is a required field, and must be sent as a string' }, summary: 'no string id: refused' };
    return { status: 201, body: { id }, summary: '1 data item' };
  }
  if (TOKEN.test(request.path)) {
    const form = request.body as Record<string, string> | undefined;
    if (form?.grant_type !== 'client_credentials' || !form.client_id || !form.client_secret) {
      return { status: 400, body: { error: 'invalid_request' }, summary: 'token request without client credentials' };
    }
    issued++;
    return { status: 200, body: { access_token: `sandbox-access-token-${issued}`, token_type: 'Bearer', expires_in: 3600 }, summary: 'OAuth2 token issued' };
  }
  return undefined;
}

/**
 * Reads a token request's form so that the recorder keeps no client secret (GET /_sandbox/requests
 * lists bodies): the secret's value becomes `****`. Other bodies are left to the JSON reading.
 */
export function seenSandboxReadBody(path: string, body: NodeJS.ReadableStream): Promise<unknown> | undefined {
  if (!TOKEN.test(path)) return undefined;
  return (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    if (form.client_secret) form.client_secret = '****';
    return form;
  })();
}
