import { ChangeMessageVisibilityBatchCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DeliveryQueue, deliveryQueues } from '../functions/catalogue';
import { chunk } from '../functions/core/pack';
import { queueDepth } from '../functions/core/queue';
import type { Fauxqs } from './emulators';

/** Test knobs: how SQS behaves locally (defaults follow the catalogue, as in AWS). */
export interface QueueOverrides {
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
}

export interface RunningQueue {
  definition: DeliveryQueue;
  url: string;
  arn: string;
  dlqUrl: string;
  dlqName: string;
}

/** The catalogue's delivery queues and their DLQs in fauxqs, and what they hold. */
export interface Queues {
  queues: ReadonlyMap<string, RunningQueue>;
  /** Queues found in DATA_DIR at start (0 on a fresh one). */
  restoredQueues: number;
  /** Messages an earlier run on DATA_DIR had received and not finished, made visible again at start. */
  resumedInFlight: number;
  /** Messages (visible, in flight and delayed) a queue or its DLQ holds. */
  depth: (queueId: string, which?: 'queue' | 'dlq') => Promise<number>;
  /** Messages each queue and its DLQ hold. */
  backlog: () => Promise<{ queue: string; waiting: number; parked: number }[]>;
}

const FOURTEEN_DAYS = String(14 * 24 * 3600);

/**
 * Creates every delivery queue of the catalogue with its DLQ, as the stack does. A queue restored
 * from DATA_DIR keeps its messages; only its attributes are brought up to date, and what was in
 * flight is made visible again.
 */
export async function openQueues(fauxqs: Fauxqs, sqs: SQSClient, overrides: QueueOverrides = {}): Promise<Queues> {
  const restored: string[] = [];
  const updates: Promise<unknown>[] = [];
  const ensure = async (name: string, attributes: Record<string, string>) => {
    const existing = await fauxqs.inspectQueue(name);
    if (!existing) {
      const created = await fauxqs.createQueue(name, { attributes });
      return { url: created.queueUrl, arn: created.queueArn };
    }
    restored.push(name);
    updates.push(sqs.send(new SetQueueAttributesCommand({ QueueUrl: existing.url, Attributes: attributes })));
    return { url: existing.url, arn: existing.arn };
  };
  const queues = new Map<string, RunningQueue>();
  for (const definition of deliveryQueues) {
    const name = `bpb-${definition.id}`;
    const dlq = await ensure(`${name}-dlq`, { MessageRetentionPeriod: FOURTEEN_DAYS });
    const queue = await ensure(name, queueAttributes(definition, dlq.arn, overrides));
    queues.set(definition.id, { definition, url: queue.url, arn: queue.arn, dlqUrl: dlq.url, dlqName: `${name}-dlq` });
  }
  await Promise.all(updates);
  const resumedInFlight = await resumeInFlight(fauxqs, sqs, restored);
  return { queues, restoredQueues: restored.length, resumedInFlight, ...depths(sqs, queues) };
}

function queueAttributes(definition: DeliveryQueue, dlqArn: string, overrides: QueueOverrides): Record<string, string> {
  const visibility = overrides.visibilityTimeoutSeconds ?? definition.consumer.timeoutSeconds * 6;
  const maxReceiveCount = overrides.maxReceiveCount ?? definition.maxReceiveCount;
  return {
    VisibilityTimeout: String(visibility),
    MessageRetentionPeriod: FOURTEEN_DAYS,
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(maxReceiveCount) }),
  };
}

/**
 * What an earlier run on DATA_DIR had received and not finished (a batch being delivered, one its
 * consumer set to back off, a DLQ peek) stays in flight until its visibility timeout: 6 minutes for
 * Braze. The lock says that run is gone, so nobody will finish it: it is made visible again within
 * a second and delivered. (Receiving it again counts toward maxReceiveCount, as after a Lambda
 * crash.) One second rather than 0: fauxqs 2.4.1 fails to write a visibility of 0 to its SQLite (it
 * sets the NOT NULL receive count to null) and answers 500, while any other value is kept.
 */
async function resumeInFlight(fauxqs: Fauxqs, sqs: SQSClient, names: readonly string[]): Promise<number> {
  let resumed = 0;
  for (const name of names) {
    const held = await fauxqs.inspectQueue(name);
    for (const batch of chunk(held?.messages.inflight ?? [], 10)) {
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: held?.url,
          Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle, VisibilityTimeout: 1 })),
        }),
      );
      resumed += result.Successful?.length ?? 0;
    }
  }
  return resumed;
}

function depths(sqs: SQSClient, queues: ReadonlyMap<string, RunningQueue>): Pick<Queues, 'depth' | 'backlog'> {
  const depth = (queueId: string, which: 'queue' | 'dlq' = 'queue') => {
    const q = queues.get(queueId);
    if (!q) throw new Error(`no queue ${queueId}`);
    return queueDepth(sqs, which === 'queue' ? q.url : q.dlqUrl);
  };
  const backlog = () =>
    Promise.all(
      [...queues.values()].map(async (q) => ({ queue: q.definition.id, waiting: await queueDepth(sqs, q.url), parked: await queueDepth(sqs, q.dlqUrl) })),
    );
  return { depth, backlog };
}
