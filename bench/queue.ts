import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import type { TrackItem } from '../functions/core/braze';
import { deleteMessages, QueueSender } from '../functions/core/queue';
import { encodeTrackMessages } from '../functions/core/track-queue';

interface QueueFigure {
  storage: 'disk' | 'memory';
  recordsPerMessage: number;
  messages: number;
  messageBytes: number;
  /** Send (SendMessageBatch, 10 a request), then receive (10 a request) and delete (DeleteMessageBatch) every message. */
  seconds: number;
  messagesPerSecond: number;
  /** Records those messages carry, a second. */
  recordsPerSecond: number;
  /** CPU seconds of this process (fauxqs and its client share it). */
  cpuSeconds: number;
}

/**
 * The embedded queue's own cost, apart from the bridge: `records` Lytics audience records as the
 * ingress encodes them (`recordsPerMessage` a message), sent, received and deleted through fauxqs
 * in this process with the runner's SQS client settings, its SQLite in a temporary folder on disk
 * or in memory. One sender and one receiver, each a request at a time, as one ingress and one poller.
 */
async function benchQueue(records: number, recordsPerMessage: number, storage: 'disk' | 'memory'): Promise<QueueFigure> {
  const dataDir = storage === 'disk' ? mkdtempSync(path.join(tmpdir(), 'bench-queue-')) : undefined;
  const fauxqs = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1', ...(dataDir ? { dataDir } : {}) } as Parameters<typeof startFauxqs>[0]);
  const sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${fauxqs.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    md5: false,
  });
  try {
    const { queueUrl } = fauxqs.createQueue('bench-queue', {});
    const items: TrackItem[] = Array.from({ length: records }, (_, i) => ({
      kind: 'attributes',
      object: { external_id: `bench-${i}`, lytics_segments: { add: ['lytics_all'] } },
    }));
    const messages = encodeTrackMessages('lytics-audiences', 'bench', items, recordsPerMessage);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const sender = new QueueSender(sqs);
    for (let i = 0; i < messages.length; i += 10) await sender.sendAll(queueUrl, messages.slice(i, i + 10));
    let received = 0;
    while (received < messages.length) {
      const answer = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
      const got = answer.Messages ?? [];
      received += got.length;
      await deleteMessages(sqs, queueUrl, got);
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      storage,
      recordsPerMessage,
      messages: messages.length,
      messageBytes: Buffer.byteLength(messages[0]?.body ?? ''),
      seconds,
      messagesPerSecond: messages.length / seconds,
      recordsPerSecond: records / seconds,
      cpuSeconds: (used.user + used.system) / 1e6,
    };
  } finally {
    sqs.destroy();
    await fauxqs.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The queue section of `npm run bench`: on disk and in memory, one call's worth and four calls' worth of records a message. */
export async function printQueue(records: number): Promise<void> {
  console.log(`The embedded queue alone (fauxqs in this process): ${records} records sent, received and deleted, one request at a time each`);
  for (const storage of ['disk', 'memory'] as const) {
    for (const perMessage of [75, 300]) {
      const q = await benchQueue(records, perMessage, storage);
      console.log(
        `  ${storage.padEnd(6)} ${String(perMessage).padStart(3)} records/message (${(q.messageBytes / 1024).toFixed(1)} KB): ` +
          `${q.messagesPerSecond.toFixed(0)} messages/s = ${q.recordsPerSecond.toFixed(0)} records/s ` +
          `(${q.seconds.toFixed(1)} s, ${q.cpuSeconds.toFixed(1)} CPU-s)`,
      );
    }
  }
  console.log();
}
