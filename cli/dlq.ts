/**
 * `bridge dlq list|peek|redrive`: the delivery queues' DLQs, either of a deployed stack (AWS, the
 * default) or of a running `npm start` (`--local [url]`, through the DLQ admin API of
 * local/dlq-admin.ts). Queues are named by their catalogue id.
 *
 * In AWS, a queue's URL and ARN and its DLQ's are read from the stack's outputs by their stable
 * names (`DeliveryQueue<id>Url`, `...Arn`, `...DlqUrl`, `...DlqArn`: lib/stack-outputs.ts); when
 * the stack has no such outputs (one deployed before they had these names, say), from the names
 * CloudFormation gives queues the stack does not name (`<stack>-Delivery<id>Queue<hash>-<suffix>`,
 * `<stack>-Delivery<id>DeadLetterQueue<hash>-<suffix>`) with SQS ListQueues.
 */

import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  ListQueuesCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { deliveryQueues } from '../functions/catalogue';
import { queueDepth } from '../functions/core/queue';
import { DELIVERY_QUEUE_OUTPUT_PREFIX, deliveryQueueOutputs, outputKeyPart } from '../lib/stack-outputs';
import { type PeekedMessage, peekQueue, summarise } from '../local/dlq-admin';
import { queueById } from './catalogue-lookup';
import { type CliIo, CommandFailed, lineWriter, plural, prettyJson, UsageError } from './io';

export const DEFAULT_STACK = 'BrazePartnerBridge';
export const DEFAULT_LOCAL_URL = 'http://localhost:3000';

export interface DlqOptions {
  stack?: string;
  /** `true` for `--local` without a URL. */
  local?: string | boolean;
  region?: string;
  json?: boolean;
  max?: number;
  showBodies?: boolean;
  /** Seconds between ListMessageMoveTasks polls (AWS redrive). */
  pollSeconds?: number;
}

interface QueueState {
  queue: string;
  destination: string;
  waiting: number;
  parked: number;
  sampled?: number;
  reasons?: Record<string, number>;
  /** AWS: the stack has no such queue (its partner is not enabled). */
  deployed?: boolean;
}

interface PeekAnswer extends QueueState {
  messages: PeekedMessage[];
}

function target(options: DlqOptions): { kind: 'local'; url: string } | { kind: 'aws'; stack: string } {
  if (options.local !== undefined && options.local !== false) {
    if (options.stack) throw new UsageError('--local and --stack name different targets: give one');
    return { kind: 'local', url: (typeof options.local === 'string' ? options.local : DEFAULT_LOCAL_URL).replace(/\/+$/, '') };
  }
  return { kind: 'aws', stack: options.stack ?? DEFAULT_STACK };
}

// ---- npm start (the DLQ admin API) ----

async function localCall<T>(base: string, method: 'GET' | 'POST', path: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, { method });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new CommandFailed(`${method} ${base}${path} failed: ${cause ?? String(error)} (is npm start running there?)`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* kept as text */
  }
  if (!response.ok) {
    const message = (body as { error?: string }).error ?? text;
    throw new CommandFailed(`${method} ${path} answered ${response.status}: ${message}`);
  }
  return body as T;
}

// ---- AWS ----

interface AwsQueue {
  id: string;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

/** The stack's outputs (DescribeStacks), by key. */
async function cloudFormationOutputs(stack: string, region: string | undefined): Promise<Record<string, string> | undefined> {
  const client = new CloudFormationClient(region ? { region } : {});
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: stack }));
    return Object.fromEntries((answer.Stacks?.[0]?.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [])));
  } finally {
    client.destroy();
  }
}

async function arnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const answer = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = answer.Attributes?.QueueArn;
  if (!arn) throw new CommandFailed(`SQS did not give the ARN of ${queueUrl}`);
  return arn;
}

async function urlOfArn(sqs: SQSClient, arn: string): Promise<string> {
  const [, , , , account, name] = arn.split(':');
  const answer = await sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
  if (!answer.QueueUrl) throw new CommandFailed(`SQS did not give the URL of ${arn}`);
  return answer.QueueUrl;
}

/** The one queue whose name starts with `prefix`, undefined if none; an error if several do. */
async function queueByPrefix(sqs: SQSClient, prefix: string): Promise<string | undefined> {
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const answer = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1000, NextToken: token }));
    urls.push(...(answer.QueueUrls ?? []));
    token = answer.NextToken;
  } while (token);
  if (urls.length > 1) throw new CommandFailed(`several queues are named ${prefix}...: ${urls.join(', ')}`);
  return urls[0];
}

/** The deployed queue and DLQ of a catalogue queue; undefined when the stack has none. */
async function resolveAwsQueue(sqs: SQSClient, stack: string, queueId: string, outputs: Record<string, string> | undefined): Promise<AwsQueue | undefined> {
  const names = deliveryQueueOutputs(queueId);
  const queueArn = outputs?.[names.queueArn];
  const dlqArn = outputs?.[names.dlqArn];
  if (queueArn && dlqArn) {
    const [queueUrl, dlqUrl] = await Promise.all([outputs?.[names.queueUrl] ?? urlOfArn(sqs, queueArn), outputs?.[names.dlqUrl] ?? urlOfArn(sqs, dlqArn)]);
    return { id: queueId, queueArn, dlqArn, queueUrl, dlqUrl };
  }
  // A stack that publishes these names does so for every queue it has: this one it does not have.
  if (outputs && Object.keys(outputs).some((key) => key.startsWith(DELIVERY_QUEUE_OUTPUT_PREFIX))) return undefined;
  // CloudFormation names a queue the stack does not name after its construct path: `Delivery` + the id's letters and digits.
  const part = `Delivery${outputKeyPart(queueId)}`;
  const [queueUrl, dlqUrl] = await Promise.all([queueByPrefix(sqs, `${stack}-${part}Queue`), queueByPrefix(sqs, `${stack}-${part}DeadLetterQueue`)]);
  if (!queueUrl || !dlqUrl) return undefined;
  const [foundQueueArn, foundDlqArn] = await Promise.all([arnOf(sqs, queueUrl), arnOf(sqs, dlqUrl)]);
  return { id: queueId, queueUrl, queueArn: foundQueueArn, dlqUrl, dlqArn: foundDlqArn };
}

class Aws {
  readonly sqs: SQSClient;
  private outputs?: Promise<Record<string, string> | undefined>;

  constructor(
    readonly stack: string,
    private readonly region: string | undefined,
    private readonly io: CliIo,
  ) {
    this.sqs = new SQSClient(region ? { region } : {});
  }

  async queue(queueId: string): Promise<AwsQueue | undefined> {
    this.outputs ??= (this.io.stackOutputs ?? cloudFormationOutputs)(this.stack, this.region);
    return resolveAwsQueue(this.sqs, this.stack, queueId, await this.outputs);
  }

  async mustQueue(queueId: string): Promise<AwsQueue> {
    const found = await this.queue(queueId);
    if (!found) throw new CommandFailed(`stack ${this.stack} has no ${queueId} queue (is its partner enabled, and the stack name and region right?)`);
    return found;
  }

  destroy() {
    this.sqs.destroy();
  }
}

// ---- the commands ----

const reasonsText = (reasons: Record<string, number> | undefined) =>
  Object.entries(reasons ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');

export async function dlqList(queueId: string | undefined, options: DlqOptions, io: CliIo): Promise<void> {
  const ids = queueId ? [queueById(queueId).id] : deliveryQueues.map((q) => q.id);
  const where = target(options);
  let states: QueueState[];
  if (where.kind === 'local') {
    const answer = await localCall<{ queues: QueueState[] }>(where.url, 'GET', '/_dlq');
    states = answer.queues.filter((q) => ids.includes(q.queue));
  } else {
    const aws = new Aws(where.stack, options.region, io);
    try {
      states = await Promise.all(
        ids.map(async (id): Promise<QueueState> => {
          const destination = queueById(id).destination;
          const found = await aws.queue(id);
          if (!found) return { queue: id, destination, waiting: 0, parked: 0, deployed: false };
          const [waiting, parked] = await Promise.all([queueDepth(aws.sqs, found.queueUrl), queueDepth(aws.sqs, found.dlqUrl)]);
          return { queue: id, destination, waiting, parked, deployed: true };
        }),
      );
    } finally {
      aws.destroy();
    }
  }
  const line = lineWriter(io.out);
  if (options.json) return line(prettyJson({ target: where, queues: states }));
  line(where.kind === 'local' ? `npm start at ${where.url}:` : `stack ${where.stack}:`);
  const width = Math.max(...states.map((s) => s.queue.length), 5);
  line(`${'queue'.padEnd(width)}  ${'waiting'.padStart(8)}  ${'parked'.padStart(8)}  reasons`);
  for (const s of states) {
    if (s.deployed === false) {
      line(`${s.queue.padEnd(width)}  ${'-'.padStart(8)}  ${'-'.padStart(8)}  not in the stack`);
      continue;
    }
    const reasons = where.kind === 'aws' ? (s.parked > 0 ? '(bridge dlq peek)' : '') : reasonsText(s.reasons);
    line(`${s.queue.padEnd(width)}  ${String(s.waiting).padStart(8)}  ${String(s.parked).padStart(8)}  ${reasons}`);
  }
}

export async function dlqPeek(queueId: string, options: DlqOptions, io: CliIo): Promise<void> {
  const queue = queueById(queueId);
  const max = options.max ?? 10;
  const where = target(options);
  let answer: PeekAnswer;
  if (where.kind === 'local') {
    answer = await localCall<PeekAnswer>(where.url, 'GET', `/_dlq/${encodeURIComponent(queue.id)}?max=${max}${options.showBodies ? '&bodies=1' : ''}`);
  } else {
    const aws = new Aws(where.stack, options.region, io);
    try {
      const found = await aws.mustQueue(queue.id);
      const [waiting, parked] = await Promise.all([queueDepth(aws.sqs, found.queueUrl), queueDepth(aws.sqs, found.dlqUrl)]);
      // Long polls of 1 s: a short poll on SQS samples only some servers and may miss messages.
      const messages = parked > 0 && max > 0 ? await peekQueue(aws.sqs, found.dlqUrl, { max, bodies: options.showBodies, waitSeconds: 1 }) : [];
      answer = { queue: queue.id, destination: queue.destination, waiting, parked, ...summarise(messages), messages };
    } finally {
      aws.destroy();
    }
  }
  const line = lineWriter(io.out);
  if (options.json) return line(prettyJson({ target: where, ...answer }));
  line(
    `${answer.queue}: ${plural(answer.parked, 'message')} in its DLQ, ${answer.waiting} waiting in the queue; read ${answer.sampled ?? answer.messages.length}`,
  );
  for (const [reason, count] of Object.entries(answer.reasons ?? {}).sort((a, b) => b[1] - a[1])) line(`  ${String(count).padStart(6)}  ${reason}`);
  if (answer.messages.length > 0) {
    line('messages:');
    for (const m of answer.messages) {
      line(`  ${m.messageId}  ${m.reason}${m.sentAt ? `  parked ${m.sentAt}` : ''}`);
      if (m.body !== undefined) line(`    ${m.body}`);
    }
    if (!options.showBodies) line('bodies not shown (they hold user data): --show-bodies prints them');
  }
}

const finished = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

export async function dlqRedrive(queueId: string, options: DlqOptions, io: CliIo): Promise<void> {
  const queue = queueById(queueId);
  const where = target(options);
  const line = lineWriter(io.out);
  if (where.kind === 'local') {
    const answer = await localCall<{ queue: string; moved: number }>(where.url, 'POST', `/_dlq/${encodeURIComponent(queue.id)}/redrive`);
    if (options.json) return line(prettyJson({ target: where, ...answer }));
    return line(`${queue.id}: moved ${plural(answer.moved, 'message')} from its DLQ back to the queue`);
  }

  const aws = new Aws(where.stack, options.region, io);
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  try {
    const found = await aws.mustQueue(queue.id);
    // Always name the destination: parked messages were sent to the DLQ directly, so SQS does not know their source.
    const started = await aws.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: found.dlqArn, DestinationArn: found.queueArn }));
    if (!options.json) line(`${queue.id}: redrive started (${found.dlqArn} -> ${found.queueArn})`);
    let task: ListMessageMoveTasksResultEntry | undefined;
    let lastText = '';
    for (;;) {
      const listed = await aws.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: found.dlqArn, MaxResults: 10 }));
      const results = listed.Results ?? [];
      task = results.find((r) => started.TaskHandle && r.TaskHandle === started.TaskHandle) ?? results[0];
      const status = task?.Status ?? 'UNKNOWN';
      const text = `  ${status}: ${task?.ApproximateNumberOfMessagesMoved ?? 0} of ${task?.ApproximateNumberOfMessagesToMove ?? '?'} moved`;
      if (!options.json && text !== lastText) line(text);
      lastText = text;
      if (finished.has(status)) break;
      await sleep((options.pollSeconds ?? 5) * 1000);
    }
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    if (options.json) line(prettyJson({ target: where, queue: queue.id, status: task?.Status, moved, failureReason: task?.FailureReason }));
    else if (task?.Status === 'COMPLETED') line(`${queue.id}: moved ${plural(moved, 'message')} from its DLQ back to the queue`);
    if (task?.Status !== 'COMPLETED')
      throw new CommandFailed(`redrive ${task?.Status?.toLowerCase() ?? 'ended'}${task?.FailureReason ? `: ${task.FailureReason}` : ''}`);
  } finally {
    aws.destroy();
  }
}
