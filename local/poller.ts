import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ConsumerFunction, EventSourceDrive } from '../functions/core/catalogue-types';
import { deleteMessages } from '../functions/core/queue';
import { lambdaContext } from './lambda-context';

/** Receives at once while a queue has a backlog (an uncapped number starved the other lanes' pollers). */
const MAX_PARALLEL_RECEIVES = 10;

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface PollerOptions {
  name: string;
  queueUrl: string;
  queueArn: string;
  consumer: ConsumerFunction;
  drive: EventSourceDrive;
  handler: SqsHandler;
  log: (line: string) => void;
}

/**
 * What Lambda's SQS event source mapping does, locally: long-polls, gathers up to `batchSize`
 * messages within the batching window, invokes the handler, deletes what succeeded and leaves
 * `batchItemFailures` (or the whole batch if the handler throws) to reappear after the visibility
 * timeout; SQS's redrive policy moves a message to the DLQ after maxReceiveCount receives.
 * One loop gathers batches; up to `maxConcurrency` invocations run at once.
 */
export class EventSourcePoller {
  private running = false;
  private loop?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly options: PollerOptions,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.work();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async work(): Promise<void> {
    while (this.running) {
      try {
        while (this.inFlight.size >= this.options.drive.maxConcurrency) await Promise.race(this.inFlight);
        const batch = await this.gather();
        if (batch.length === 0) continue;
        const invocation: Promise<void> = this.invoke(batch)
          .catch((error: unknown) => this.options.log(`poller ${this.options.name}: ${error instanceof Error ? error.message : String(error)}`))
          .finally(() => this.inFlight.delete(invocation));
        this.inFlight.add(invocation);
      } catch (error) {
        if (this.running) {
          this.options.log(`poller ${this.options.name}: ${error instanceof Error ? error.message : String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    }
  }

  /**
   * Gathers one batch. While the last receive came back full (10 messages: a backlog), the rest of
   * the batch is asked for by up to 10 receives at once, as Lambda's pollers do; after a short or
   * empty answer it is one receive at a time again, so an idle queue costs one long poll.
   */
  private async gather(): Promise<Message[]> {
    const { batchSize, maxBatchingWindowSeconds } = this.options.drive;
    const batch: Message[] = [];
    let windowEnds: number | undefined;
    let parallel = 1;
    while (this.running && batch.length < batchSize) {
      const waitMs = windowEnds === undefined ? 1000 : windowEnds - Date.now();
      if (waitMs <= 0) break;
      const wanted = batchSize - batch.length;
      const calls = Math.min(parallel, Math.ceil(wanted / 10), MAX_PARALLEL_RECEIVES);
      const answers = await Promise.all(
        Array.from({ length: calls }, (_, i) => this.receive(Math.min(10, wanted - i * 10), Math.min(1, Math.floor(waitMs / 1000)))),
      );
      const messages = answers.flat();
      parallel = answers.every((a) => a.length === 10) ? MAX_PARALLEL_RECEIVES : 1;
      if (messages.length === 0 && windowEnds === undefined) continue;
      batch.push(...messages);
      windowEnds ??= Date.now() + maxBatchingWindowSeconds * 1000;
      if (messages.length === 0 && maxBatchingWindowSeconds === 0) break;
    }
    return batch;
  }

  private async receive(max: number, waitSeconds: number): Promise<Message[]> {
    const received = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return received.Messages ?? [];
  }

  private async invoke(batch: Message[]): Promise<void> {
    const { name, consumer, handler, queueUrl } = this.options;
    const event: SQSEvent = { Records: batch.map((m) => this.toRecord(m)) };
    let failedIds = new Set<string>();
    try {
      const result = await handler(event, lambdaContext(name, consumer.timeoutSeconds, consumer.memoryMb));
      failedIds = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      this.options.log(`${name}: handler threw (${error instanceof Error ? error.name : 'error'}), ${batch.length} message(s) will be redelivered`);
      return;
    }
    const done = batch.filter((m) => !failedIds.has(m.MessageId ?? ''));
    await deleteMessages(this.sqs, queueUrl, done);
    if (failedIds.size > 0) this.options.log(`${name}: ${failedIds.size} of ${batch.length} message(s) failed, left for redelivery`);
  }

  private toRecord(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([key, value]) => [
          key,
          { stringValue: value.StringValue, dataType: value.DataType ?? 'String', stringListValues: [], binaryListValues: [] },
        ]),
      ),
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn,
      awsRegion: 'us-east-1',
    };
  }
}
