/**
 * The DLQ admin API of `npm start`: what `bridge dlq ... --local` and the console's redrive button
 * call. Every delivery queue of the catalogue is addressed by its catalogue id (`<queue>` below).
 * The contract is stable; answers are JSON.
 *
 *   GET  /_dlq[?max=N]
 *     200 {"queues": [{"queue", "destination", "waiting", "parked", "sampled", "reasons": {"<reason>": count}}]}
 *     every queue: `waiting` = messages in the queue (visible, in flight and delayed), `parked` =
 *     messages in its DLQ, `reasons` = the `parked_reason` attribute counted over the first `sampled`
 *     DLQ messages (at most N, default 100; `max=0` reads none and leaves `reasons` empty: what a
 *     page polling the depths should ask for, since reading hides messages from other readers
 *     for the moment it takes).
 *
 *   GET  /_dlq/<queue>[?max=N][&bodies=1]
 *     200 {"queue", "destination", "waiting", "parked", "sampled", "reasons",
 *          "messages": [{"messageId", "reason", "receiveCount", "sentAt", "body"?}]}
 *     a peek at up to N DLQ messages (default 10, at most 1,000); `body` only with `bodies=1`
 *     (bodies hold user data; a gzipped body is shown as its JSON). The messages stay in the DLQ (received briefly, then made visible
 *     again; each peek counts as a receive, which a DLQ without a redrive policy does not mind).
 *     404 {"error", "queues": [...ids]} for a queue the catalogue does not have.
 *
 *   POST /_dlq/<queue>/redrive
 *     200 {"queue", "moved"}: the messages the DLQ held when the request arrived are sent back to
 *     <queue> (body and message attributes kept, as SQS's StartMessageMoveTask does), each deleted
 *     from the DLQ once the queue has it. fauxqs (2.4) has no StartMessageMoveTask, hence receive +
 *     SendMessageBatch + DeleteMessageBatch. At most as many messages as the DLQ held are moved,
 *     so messages that fail again at once (parked anew) do not keep one redrive going round.
 *     502 {"error", "queue", "moved", "refused"} when the queue refused some (they stay in the DLQ);
 *     403 when the request carries an Origin other than the runner's own (a web page elsewhere
 *     cannot make the browser redrive); 404 as above.
 *
 * Reasons: `parked_reason` as the consumer set it (`<partner>_<status>` ...); a message SQS
 * moved after `maxReceiveCount` failed receives carries none and is counted as `max_receives`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { decodeMessageBody } from '../functions/core/message-body';
import { chunk } from '../functions/core/pack';
import { sqsBatches } from '../functions/core/queue';
import type { LocalRoute } from './gateway';
import type { RunnerState } from './runner';

/** What the DLQ admin API reads and moves: the queues, their depths, the SQS client. */
export type DlqView = Pick<RunnerState, 'queues' | 'depth' | 'sqs'>;

/** The message attribute a consumer parks a message with. */
const PARKED_REASON_ATTRIBUTE = 'parked_reason';
/** The reason counted for a message SQS moved itself after maxReceiveCount receives. */
const MAX_RECEIVES_REASON = 'max_receives';

export interface PeekedMessage {
  messageId: string;
  reason: string;
  receiveCount: number;
  /** When the message was sent to the DLQ (ISO 8601), if SQS said. */
  sentAt?: string;
  /** Only when asked for (user data). */
  body?: string;
}

export interface DlqSummary {
  sampled: number;
  reasons: Record<string, number>;
}

export interface PeekOptions {
  /** Most messages to read. */
  max: number;
  /** Keep each message's body in the answer. */
  bodies?: boolean;
  /** Seconds each receive may wait (0 on fauxqs; 1 on AWS, whose short polls sample only some servers). */
  waitSeconds?: number;
}

/** `parked_reason` counts of peeked messages. */
export function summarise(messages: readonly PeekedMessage[]): DlqSummary {
  const reasons: Record<string, number> = {};
  for (const message of messages) reasons[message.reason] = (reasons[message.reason] ?? 0) + 1;
  return { sampled: messages.length, reasons };
}

/**
 * Reads up to `max` messages of a queue without removing them: each is received (hidden for a
 * while, so the next receive returns others), then every one is made visible again at once.
 * Works on SQS and fauxqs alike.
 */
export async function peekQueue(sqs: SQSClient, queueUrl: string, options: PeekOptions): Promise<PeekedMessage[]> {
  const held = new Map<string, Message>();
  try {
    while (held.size < options.max) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, options.max - held.size),
          VisibilityTimeout: 60,
          WaitTimeSeconds: options.waitSeconds ?? 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const fresh = (received.Messages ?? []).filter((m) => m.MessageId && !held.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) held.set(message.MessageId!, message);
    }
  } finally {
    await makeVisible(sqs, queueUrl, [...held.values()]);
  }
  return [...held.values()].map((m) => {
    const sent = Number(m.Attributes?.SentTimestamp);
    return {
      messageId: m.MessageId ?? '',
      reason: m.MessageAttributes?.[PARKED_REASON_ATTRIBUTE]?.StringValue ?? MAX_RECEIVES_REASON,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
      ...(options.bodies ? { body: readableBody(m.Body ?? '') } : {}),
    };
  });
}

/** A parked body as JSON, decoded when it travelled gzipped (functions/core/message-body.ts); as it is when it does not decode. */
function readableBody(body: string): string {
  try {
    return decodeMessageBody(body).json;
  } catch {
    return body;
  }
}

async function makeVisible(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  const entries = messages.flatMap((m, i) => (m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }] : []));
  for (const batch of chunk(entries, 10)) await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: batch }));
}

/** Bytes SQS counts for a message (body plus each attribute's name, type and value). */
function messageBytes(message: Message): number {
  let bytes = Buffer.byteLength(message.Body ?? '');
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? '') + (value.BinaryValue?.length ?? 0);
  }
  return bytes;
}

const copyAttributes = (attributes: Record<string, MessageAttributeValue> | undefined) =>
  attributes && Object.keys(attributes).length > 0
    ? Object.fromEntries(
        Object.entries(attributes).map(([name, value]) => [
          name,
          {
            DataType: value.DataType,
            ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
            ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
          },
        ]),
      )
    : undefined;

/**
 * Moves up to `limit` messages from one queue to another, keeping body and message attributes: each
 * is deleted from the source only once the destination has it (at least once, never lost).
 * Stops at the first batch the destination refused part of (what it refused stays in the source).
 */
async function moveMessages(sqs: SQSClient, fromUrl: string, toUrl: string, limit: number): Promise<{ moved: number; refused: number }> {
  let moved = 0;
  let refused = 0;
  while (moved < limit) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: fromUrl,
        MaxNumberOfMessages: Math.min(10, limit - moved),
        VisibilityTimeout: 60,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    for (const group of sqsBatches(messages, messageBytes)) {
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: toUrl,
          Entries: group.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '', MessageAttributes: copyAttributes(m.MessageAttributes) })),
        }),
      );
      const done = (sent.Successful ?? []).map((entry) => group[Number(entry.Id)]).filter((m): m is Message => m !== undefined);
      refused += group.length - done.length;
      if (done.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: fromUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
        moved += done.length;
      }
      // What the destination refused goes back to the source at once, for a later redrive.
      await makeVisible(
        sqs,
        fromUrl,
        group.filter((m) => !done.includes(m)),
      );
    }
    if (refused > 0) break;
  }
  return { moved, refused };
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

/** A `max` query parameter as a whole number within bounds. */
function maxParameter(url: URL, fallback: number, ceiling: number): number {
  const raw = url.searchParams.get('max');
  const value = raw === null ? fallback : Number(raw);
  return Number.isInteger(value) && value >= 0 ? Math.min(value, ceiling) : fallback;
}

/** True when the request comes from no browser page, or from a page the runner served itself. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    const { host } = new URL(origin);
    return host === req.headers.host;
  } catch {
    return false;
  }
}

/** The DLQ admin routes (see the top of this file). */
export function dlqRoutes(runner: DlqView): LocalRoute[] {
  const queueIds = () => [...runner.queues.keys()];
  const summaryOf = async (queueId: string, peek: PeekOptions) => {
    const q = runner.queues.get(queueId)!;
    const [waiting, parked] = await Promise.all([runner.depth(queueId, 'queue'), runner.depth(queueId, 'dlq')]);
    const messages = parked > 0 && peek.max > 0 ? await peekQueue(runner.sqs, q.dlqUrl, peek) : [];
    return { queue: queueId, destination: q.definition.destination, waiting, parked, ...summarise(messages), messages };
  };

  const route: LocalRoute = async (req, res, url) => {
    if (url.pathname !== '/_dlq' && !url.pathname.startsWith('/_dlq/')) return false;
    const [, , rawQueue, action, ...rest] = url.pathname.split('/');
    const queueId = rawQueue ? decodeURIComponent(rawQueue) : undefined;

    if (queueId === undefined) {
      if (req.method !== 'GET') {
        sendJson(res, 405, { error: 'GET /_dlq lists the queues' });
        return true;
      }
      const max = maxParameter(url, 100, 1_000);
      const queues = await Promise.all(
        queueIds().map(async (id) => {
          const { messages: _messages, ...summary } = await summaryOf(id, { max });
          return summary;
        }),
      );
      sendJson(res, 200, { queues });
      return true;
    }
    if (!runner.queues.has(queueId)) {
      sendJson(res, 404, { error: `no queue ${queueId}`, queues: queueIds() });
      return true;
    }
    if (action === undefined && req.method === 'GET') {
      sendJson(res, 200, await summaryOf(queueId, { max: maxParameter(url, 10, 1_000), bodies: url.searchParams.get('bodies') === '1' }));
      return true;
    }
    if (action === 'redrive' && rest.length === 0) {
      if (req.method !== 'POST') {
        sendJson(res, 405, { error: `POST /_dlq/${queueId}/redrive` });
        return true;
      }
      if (!sameOrigin(req)) {
        sendJson(res, 403, { error: 'redrive from another origin refused' });
        return true;
      }
      const q = runner.queues.get(queueId)!;
      const parked = await runner.depth(queueId, 'dlq');
      const { moved, refused } = parked > 0 ? await moveMessages(runner.sqs, q.dlqUrl, q.url, parked) : { moved: 0, refused: 0 };
      if (refused > 0) sendJson(res, 502, { error: `the queue refused ${refused} message(s); they stay in the DLQ`, queue: queueId, moved, refused });
      else sendJson(res, 200, { queue: queueId, moved });
      return true;
    }
    sendJson(res, 404, { error: `no such DLQ route: ${req.method} ${url.pathname}` });
    return true;
  };
  return [route];
}
