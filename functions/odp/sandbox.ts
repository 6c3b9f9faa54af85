import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

/** What ODP answers on success, for the local sandbox. */
export function odpSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method === 'POST' && (request.path === '/v3/events' || request.path === '/v3/profiles')) {
    const count = Array.isArray(request.body) ? request.body.length : request.body ? 1 : 0;
    return { status: 202, body: { title: 'Accepted', status: 202, timestamp: new Date().toISOString() }, summary: `${count} object(s)` };
  }
  return undefined;
}
