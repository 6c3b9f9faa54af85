import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

/** What Movable Ink's behavioural endpoint answers on success (its URL is the whole endpoint). */
export function movableInkSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method !== 'POST' || !/^\/?(\?.*)?$/.test(request.path)) return undefined;
  const type = (request.body as { type?: unknown } | undefined)?.type;
  return { status: 200, body: {}, summary: `1 ${typeof type === 'string' ? type : 'event'}` };
}
