import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

let sent = 0;

/** What the Sendbird Notifications API answers on success, for the local sandbox. */
export function sendbirdSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method !== 'POST' || request.path !== '/v1/notifications') return undefined;
  const targets = (request.body as { targets?: unknown[] } | undefined)?.targets?.length ?? 0;
  sent++;
  return { status: 200, body: { notification_id: `sandbox-${sent}` }, summary: `${targets} target(s)` };
}
