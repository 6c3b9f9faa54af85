import type { SQSClient } from '@aws-sdk/client-sqs';
import { SQS_BILLING_CHUNK_BYTES } from './prices';

/** One SQS API action's count: requests made, requests billed (64 KB chunks), payload bytes, empty receives. */
export interface SqsCount {
  requests: number;
  billed: number;
  bytes: number;
  /** ReceiveMessage answers holding no message (long polls of an idle queue: not per record). */
  empty: number;
}

const utf8 = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));

type Attributes = Record<string, { DataType?: string; StringValue?: string }> | undefined;
const attributeBytes = (attributes: Attributes) =>
  Object.entries(attributes ?? {}).reduce((n, [name, value]) => n + utf8(name) + utf8(value.DataType) + utf8(value.StringValue), 0);

/** What SQS bills a request's payload for: the messages sent, or received (body and attributes). */
function payloadBytes(command: string, input: unknown, output: unknown): number {
  type Message = { MessageBody?: string; Body?: string; MessageAttributes?: Attributes };
  if (command === 'SendMessageBatchCommand') {
    return ((input as { Entries?: Message[] }).Entries ?? []).reduce((n, m) => n + utf8(m.MessageBody) + attributeBytes(m.MessageAttributes), 0);
  }
  if (command === 'SendMessageCommand') {
    const m = input as Message;
    return utf8(m.MessageBody) + attributeBytes(m.MessageAttributes);
  }
  if (command === 'ReceiveMessageCommand') {
    return ((output as { Messages?: Message[] }).Messages ?? []).reduce((n, m) => n + utf8(m.Body) + attributeBytes(m.MessageAttributes), 0);
  }
  return 0;
}

/**
 * Counts the SQS requests a client makes (a middleware on its stack: the runner's one client serves
 * every ingress, poller and consumer), as SQS bills them: one request per 64 KB chunk of payload.
 * `latencyMs` delays each request, standing in for an in-region round trip (fauxqs answers in
 * well under a millisecond), so that the handler durations billed include it.
 */
export class SqsMeter {
  readonly counts = new Map<string, SqsCount>();
  counting = false;

  constructor(sqs: SQSClient, latencyMs = 0) {
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
        const result = await next(args);
        if (this.counting) {
          const command = context.commandName ?? 'unknown';
          const bytes = payloadBytes(command, args.input, result.output);
          const count = this.counts.get(command) ?? { requests: 0, billed: 0, bytes: 0, empty: 0 };
          count.requests += 1;
          count.billed += Math.max(1, Math.ceil(bytes / SQS_BILLING_CHUNK_BYTES));
          count.bytes += bytes;
          if (command === 'ReceiveMessageCommand' && bytes === 0) count.empty += 1;
          this.counts.set(command, count);
        }
        return result;
      },
      { step: 'initialize', name: 'benchSqsMeter' },
    );
  }

  /** Billed requests, empty receives left out (idle polling is a fixed cost, not a per-record one). */
  billedPerRecordTraffic(): number {
    let n = 0;
    for (const [command, count] of this.counts) n += command === 'ReceiveMessageCommand' ? count.billed - count.empty : count.billed;
    return n;
  }
}

/** Handler invocations per flow (the runner's `onInvoke`), with their durations billed as Lambda does (per ms, rounded up). */
export class InvocationMeter {
  readonly byFlow = new Map<string, { invocations: number; billedMs: number }>();
  counting = false;

  readonly onInvoke = (flowId: string, ms: number): void => {
    if (!this.counting) return;
    const entry = this.byFlow.get(flowId) ?? { invocations: 0, billedMs: 0 };
    entry.invocations += 1;
    entry.billedMs += Math.max(1, Math.ceil(ms));
    this.byFlow.set(flowId, entry);
  };
}

/**
 * Bytes of the JSON lines the handlers' Powertools logger and metrics write to stdout (what Lambda
 * sends to CloudWatch Logs) while `capture` runs; those lines are swallowed, anything else passes.
 */
export async function countingLogBytes<T>(
  capture: () => Promise<T>,
): Promise<{ result: T; lines: number; bytes: number; metricLines: number; metricBytes: number }> {
  const write = process.stdout.write.bind(process.stdout);
  let lines = 0;
  let bytes = 0;
  let metricLines = 0;
  let metricBytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (!text.startsWith('{')) return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
      const size = Buffer.byteLength(line, 'utf8');
      if (line.includes('"_aws":')) {
        metricLines += 1;
        metricBytes += size;
      } else {
        lines += 1;
        bytes += size;
      }
    }
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await capture(), lines, bytes, metricLines, metricBytes };
  } finally {
    process.stdout.write = write;
  }
}
