import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { bridge } from './support';

const region = 'eu-west-1';
const account = '123456789012';
const sqsUrl = (name: string) => `https://sqs.${region}.amazonaws.com/${account}/${name}`;
const sqsArn = (name: string) => `arn:aws:sqs:${region}:${account}:${name}`;
// The names CloudFormation gives the queues of a stack that names none (lib/constructs/delivery-queue.ts).
const QUEUE = 'Bridge-DeliverymovableinkQueueFFA4B93A-AbCdEf123456';
const DLQ = 'Bridge-DeliverymovableinkDeadLetterQueue422D633D-XyZ987654321';

/** `bridge dlq` against AWS, SQS mocked (aws-sdk-client-mock): the calls it makes are the assertions. */
describe('bridge dlq against a deployed stack', () => {
  const sqs = mockClient(SQSClient);
  const noWait = async () => undefined;
  afterAll(() => sqs.restore());
  /** Queue depths by URL; the ARN lookups keep their own answers. */
  const depths = (byUrl: Record<string, string>) =>
    sqs
      .on(GetQueueAttributesCommand)
      .callsFake((input: { QueueUrl: string; AttributeNames: string[] }) =>
        input.AttributeNames.includes('QueueArn')
          ? { Attributes: { QueueArn: input.QueueUrl === sqsUrl(QUEUE) ? sqsArn(QUEUE) : sqsArn(DLQ) } }
          : { Attributes: { ApproximateNumberOfMessages: byUrl[input.QueueUrl] ?? '0' } },
      );
  beforeEach(() => {
    sqs.reset();
    sqs.on(ListQueuesCommand).resolves({ QueueUrls: [] });
    sqs.on(ListQueuesCommand, { QueueNamePrefix: 'Bridge-DeliverymovableinkQueue' }).resolves({ QueueUrls: [sqsUrl(QUEUE)] });
    sqs.on(ListQueuesCommand, { QueueNamePrefix: 'Bridge-DeliverymovableinkDeadLetterQueue' }).resolves({ QueueUrls: [sqsUrl(DLQ)] });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: sqsUrl(QUEUE), AttributeNames: ['QueueArn'] }).resolves({ Attributes: { QueueArn: sqsArn(QUEUE) } });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: sqsUrl(DLQ), AttributeNames: ['QueueArn'] }).resolves({ Attributes: { QueueArn: sqsArn(DLQ) } });
  });

  it('redrives with StartMessageMoveTask from the DLQ to its queue, polling ListMessageMoveTasks until done', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 0, ApproximateNumberOfMessagesToMove: 3 }] })
      .resolvesOnce({ Results: [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 2, ApproximateNumberOfMessagesToMove: 3 }] })
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3 }] });

    const run = await bridge(['dlq', 'redrive', 'movable-ink', '--stack', 'Bridge', '--region', region], {
      sleep: noWait,
      stackOutputs: async () => undefined,
    });

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand).map((call) => call.args[0].input)).toEqual([
      { SourceArn: sqsArn(DLQ), DestinationArn: sqsArn(QUEUE) },
    ]);
    const polls = sqs.commandCalls(ListMessageMoveTasksCommand);
    expect(polls).toHaveLength(3);
    for (const poll of polls) expect(poll.args[0].input).toMatchObject({ SourceArn: sqsArn(DLQ) });
    expect(run.out).toContain('RUNNING: 2 of 3 moved');
    expect(run.out).toContain('COMPLETED: 3 of 3 moved');
    expect(run.out).toContain('movable-ink: moved 3 messages from its DLQ back to the queue');
  });

  it('reads the queues from the stack outputs by their stable names, and exits 1 when the move task fails', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-2' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolves({ Results: [{ TaskHandle: 'task-2', Status: 'FAILED', FailureReason: 'AccessDenied', ApproximateNumberOfMessagesMoved: 0 }] });
    const outputs = {
      DeliveryQueuemovableinkUrl: sqsUrl(QUEUE),
      DeliveryQueuemovableinkArn: sqsArn(QUEUE),
      DeliveryQueuemovableinkDlqUrl: sqsUrl(DLQ),
      DeliveryQueuemovableinkDlqArn: sqsArn(DLQ),
      DeliveryQueuebrazetrackArn: sqsArn('other'),
    };

    const run = await bridge(['dlq', 'redrive', 'movable-ink', '--region', region], {
      sleep: noWait,
      stackOutputs: async (stack) => (stack === 'BrazePartnerBridge' ? outputs : undefined),
    });

    expect(run.code).toBe(1);
    expect(run.err).toContain('redrive failed: AccessDenied');
    expect(sqs.commandCalls(ListQueuesCommand)).toHaveLength(0);
    expect(sqs.commandCalls(GetQueueUrlCommand)).toHaveLength(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({ SourceArn: sqsArn(DLQ), DestinationArn: sqsArn(QUEUE) });
  });

  it('finds the queue URLs from the ARNs when the stack outputs only those', async () => {
    sqs.on(GetQueueUrlCommand, { QueueName: QUEUE, QueueOwnerAWSAccountId: account }).resolves({ QueueUrl: sqsUrl(QUEUE) });
    sqs.on(GetQueueUrlCommand, { QueueName: DLQ, QueueOwnerAWSAccountId: account }).resolves({ QueueUrl: sqsUrl(DLQ) });
    depths({ [sqsUrl(QUEUE)]: '2', [sqsUrl(DLQ)]: '7' });
    const outputs = { DeliveryQueuemovableinkArn: sqsArn(QUEUE), DeliveryQueuemovableinkDlqArn: sqsArn(DLQ) };

    const run = await bridge(['dlq', 'list', 'movable-ink', '--region', region, '--json'], { stackOutputs: async () => outputs });

    expect(run.code).toBe(0);
    expect(run.json<{ queues: unknown[] }>().queues).toEqual([expect.objectContaining({ queue: 'movable-ink', waiting: 2, parked: 7, deployed: true })]);
    expect(sqs.commandCalls(ListQueuesCommand)).toHaveLength(0);
  });

  it('takes a queue the stable names leave out as not deployed, without searching SQS', async () => {
    const outputs = { DeliveryQueuebrazetrackArn: sqsArn('other'), DeliveryQueuebrazetrackDlqArn: sqsArn('other-dlq') };

    const run = await bridge(['dlq', 'list', 'movable-ink', '--region', region, '--json'], { stackOutputs: async () => outputs });

    expect(run.code).toBe(0);
    expect(run.json<{ queues: unknown[] }>().queues).toEqual([expect.objectContaining({ queue: 'movable-ink', deployed: false })]);
    expect(sqs.commandCalls(ListQueuesCommand)).toHaveLength(0);
  });

  it('finds the queues of a stack deployed before the stable names by the names CloudFormation gave them', async () => {
    depths({ [sqsUrl(QUEUE)]: '1', [sqsUrl(DLQ)]: '3' });
    // The outputs such a stack has: keys carrying the construct path's hash, which the CLI no longer reads.
    const outputs = { DeliverymovableinkQueueArnE6224730: sqsArn(QUEUE), DeliverymovableinkDeadLetterQueueArn79802E0E: sqsArn(DLQ) };

    const run = await bridge(['dlq', 'list', 'movable-ink', '--stack', 'Bridge', '--region', region, '--json'], { stackOutputs: async () => outputs });

    expect(run.code).toBe(0);
    expect(run.json<{ queues: unknown[] }>().queues).toEqual([expect.objectContaining({ queue: 'movable-ink', waiting: 1, parked: 3, deployed: true })]);
    expect(
      sqs
        .commandCalls(ListQueuesCommand)
        .map((call) => call.args[0].input.QueueNamePrefix)
        .sort(),
    ).toEqual(['Bridge-DeliverymovableinkDeadLetterQueue', 'Bridge-DeliverymovableinkQueue']);
  });

  it('peeks: reasons counted, bodies hidden, and the messages made visible again', async () => {
    depths({ [sqsUrl(QUEUE)]: '4', [sqsUrl(DLQ)]: '3' });
    const message = (id: string, reason?: string) => ({
      MessageId: id,
      ReceiptHandle: `rh-${id}`,
      Body: `{"email":"${id}@example.com"}`,
      Attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000' },
      ...(reason ? { MessageAttributes: { parked_reason: { DataType: 'String', StringValue: reason } } } : {}),
    });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1', 'movable-ink_422'), message('m2', 'movable-ink_422'), message('m3')] })
      .resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [] });

    const run = await bridge(['dlq', 'peek', 'movable-ink', '--stack', 'Bridge', '--region', region], { stackOutputs: async () => undefined });

    expect(run.code).toBe(0);
    expect(run.out).toContain('movable-ink: 3 messages in its DLQ, 4 waiting in the queue; read 3');
    expect(run.out).toMatch(/2 {2}movable-ink_422\n +1 {2}max_receives/);
    expect(run.out).not.toContain('@example.com');
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toMatchObject({ QueueUrl: sqsUrl(DLQ), MessageAttributeNames: ['All'] });
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0]?.args[0].input).toEqual({
      QueueUrl: sqsUrl(DLQ),
      Entries: ['m1', 'm2', 'm3'].map((id, i) => ({ Id: String(i), ReceiptHandle: `rh-${id}`, VisibilityTimeout: 0 })),
    });
  });

  it('says which queues the stack does not have', async () => {
    depths({ [sqsUrl(QUEUE)]: '0', [sqsUrl(DLQ)]: '5' });

    const run = await bridge(['dlq', 'list', '--stack', 'Bridge', '--region', region, '--json'], { stackOutputs: async () => undefined });

    expect(run.code).toBe(0);
    const queues = run.json<{ queues: { queue: string; parked: number; deployed: boolean }[] }>().queues;
    expect(queues.find((q) => q.queue === 'movable-ink')).toMatchObject({ parked: 5, deployed: true });
    expect(queues.filter((q) => !q.deployed).length).toBe(queues.length - 1);
  });
});
