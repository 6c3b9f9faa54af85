import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { decodeMessageBody } from '../../functions/core/message-body';
import { operatorRoutes } from '../../local/operator-routes';
import { type Runner, type RunnerHooks, startRunner } from '../../local/runner';

/** Visible + in-flight + delayed messages of a runner queue (or its DLQ). */
export function queueDepth(runner: Runner, queueId: string, which: 'queue' | 'dlq' = 'queue'): Promise<number> {
  return runner.depth(queueId, which);
}

/** Reads (without deleting) what sits in a queue's DLQ, each body as its JSON (decoded when it travelled gzipped). */
export async function peekDlq(runner: Runner, queueId: string): Promise<{ body: string; attributes: Record<string, string | undefined> }[]> {
  const q = runner.queues.get(queueId);
  if (!q) throw new Error(`no queue ${queueId}`);
  const result = await runner.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageAttributeNames: ['All'] }),
  );
  return (result.Messages ?? []).map((m) => ({
    body: decodeMessageBody(m.Body ?? '').json,
    attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue])),
  }));
}

/** POSTs JSON to the runner with the inbound token (pass `null` to send no credentials). */
export async function post(runner: Runner, path: string, body: unknown, token: string | null = runner.inboundToken) {
  const response = await fetch(`${runner.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Outbound retries fast enough for tests (the Lambdas' own policy waits up to 20 s). */
const quietRetryPolicy = { retries: 2, baseDelayMs: 10, maxDelayMs: 3_000, timeoutMs: 2_000 };

/** The local runner as the integration tests start it: a free port, silent, the operator routes, fast retries. */
export function startTestRunner(env: Record<string, string>, hooks: RunnerHooks = {}): Promise<Runner> {
  return startRunner(
    {
      // A destination that fails is tried again after a second, not the local runner's 30 s to 60 s.
      env: { PORT: '0', LOG_LEVEL: 'SILENT', DATA_DIR: ':memory:', DELIVERY_BACKOFF_MAX_SECONDS: '1', ...env },
      log: () => undefined,
      operatorRoutes,
    },
    { retryPolicy: quietRetryPolicy, ...hooks },
  );
}
