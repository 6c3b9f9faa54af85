import type { SandboxAnswer, SandboxRequest } from '../core/sandbox-types';

/** What Braze answers on success, for the local sandbox. */
export function brazeSandboxAnswer(request: SandboxRequest): SandboxAnswer | undefined {
  if (request.method === 'POST' && request.path === '/users/track') {
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
  const trigger = /^\/(campaigns|canvas)\/trigger\/send$/.exec(request.path);
  if (request.method === 'POST' && trigger) {
    const recipients = (request.body as { recipients?: unknown[] } | undefined)?.recipients?.length ?? 0;
    return { status: 201, body: { dispatch_id: `sandbox-${Date.now()}`, message: 'success' }, summary: `${recipients} recipient(s) of a ${trigger[1]} trigger` };
  }
  return undefined;
}
