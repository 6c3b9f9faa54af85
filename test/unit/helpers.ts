/**
 * Shared by the unit tests: hand-written fakes (a clock that never waits, a scripted fetch, SQS
 * records) injected through the constructors and options the code already exposes, fixture
 * loading, and a way to catch an expected error and look at it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { Clock } from '../../functions/core/clock';
import type { HttpEvent } from '../../functions/core/ingress';
import { type OutgoingMessage, QueueSender } from '../../functions/core/queue';

/** A clock whose sleep returns at once, records the delay and moves `now` forward by it. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(public current = Date.UTC(2024, 0, 15, 12, 0, 0)) {}

  now(): number {
    return this.current;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += ms;
  }
}

export interface RecordedRequest {
  url: string;
  method: string | undefined;
  headers: Record<string, string>;
  body: string | undefined;
}

/** One scripted answer: a fresh Response per call (bodies are single use), or a thrown error. */
export type Reply = () => Response;

export const reply =
  (status: number, body = '', headers: Record<string, string> = {}): Reply =>
  () =>
    new Response(status === 204 || status === 304 ? null : body, { status, headers });

export const networkFailure =
  (message = 'fetch failed'): Reply =>
  () => {
    throw new TypeError(message);
  };

/**
 * A fetch that answers the scripted replies in order, repeating the last one once the script
 * runs out ("500 forever"), and records every request it was given.
 */
export function scriptedFetch(...replies: Reply[]): { fetch: typeof fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fake: typeof fetch = async (input, init) => {
    requests.push({
      url: input instanceof Request ? input.url : String(input),
      method: init?.method,
      headers: toRecord(init?.headers),
      body: typeof init?.body === 'string' ? init.body : init?.body instanceof Uint8Array ? Buffer.from(init.body).toString('utf8') : undefined,
    });
    const next = replies[Math.min(requests.length - 1, replies.length - 1)];
    if (!next) throw new Error('scriptedFetch: no reply scripted');
    return next();
  };
  return { fetch: fake, requests };
}

function toRecord(headers: RequestInit['headers']): Record<string, string> {
  if (!headers) return {};
  return Object.fromEntries(new Headers(headers).entries());
}

/** An SQS record as Lambda's event source mapping hands it over. */
export function sqsRecord(messageId: string, body: string, receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1705320000000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1705320000001',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:braze-track',
    awsRegion: 'eu-west-1',
  };
}

/** A payload fixture under test/fixtures, parsed but not yet validated: tests run it through the schema. */
export function readFixture(relativePath: string): unknown {
  return JSON.parse(readFileSync(path.join(__dirname, '../fixtures', relativePath), 'utf8'));
}

/** Runs `run`, which must throw an error of `type`, and returns that error for inspection. */
export function errorThrownBy<E extends Error>(type: abstract new (...args: never[]) => E, run: () => unknown): E {
  try {
    run();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}`);
}

/** Awaits `promise`, which must reject with an error of `type`, and returns that error. */
export async function rejectionOf<E extends Error>(type: abstract new (...args: never[]) => E, promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}`);
}

/** A queue that records what an ingress enqueues instead of calling SQS (unit tests of ingress handlers). */
export class RecordingQueue extends QueueSender {
  readonly sent: OutgoingMessage[] = [];
  constructor() {
    super(new SQSClient({ region: 'eu-west-1' }));
  }
  override async sendAll(_queueUrl: string, messages: readonly OutgoingMessage[]): Promise<string[]> {
    this.sent.push(...messages);
    return messages.map((_, i) => `mid-${i}`);
  }
}

/** Everything written to stdout and stderr (the Powertools logger's lines) while `run` runs. */
export async function logsOf(run: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const keep = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(keep);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(keep);
  try {
    await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines.join('');
}

/** An API Gateway (HTTP API) event for a flow's route, as the ingress handlers receive it. */
export function routeEvent(
  flow: { method: string; path: string },
  request: { body: string; token: string; pathParameters?: Record<string, string> },
): HttpEvent {
  return {
    version: '2.0',
    routeKey: `${flow.method} ${flow.path}`,
    rawPath: flow.path,
    rawQueryString: '',
    headers: { authorization: `Bearer ${request.token}` },
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    body: request.body,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', http: { method: flow.method, path: flow.path } },
  } as unknown as HttpEvent;
}
