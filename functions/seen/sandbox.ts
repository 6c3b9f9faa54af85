import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

/** What SEEN answers on success, for the local sandbox. */
export function seenSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method === 'POST' && /^\/v1\/campaigns\/[^/]+\/receivers\/?$/.test(request.path)) {
    const count = Array.isArray(request.body) ? request.body.length : 0;
    return { status: 201, body: { created: count }, summary: `${count} receiver(s)` };
  }
  return undefined;
}
