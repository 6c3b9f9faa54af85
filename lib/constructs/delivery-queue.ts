import { CfnOutput, Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeliveryQueue as DeliveryQueueDefinition } from '../../functions/catalogue';
import { DEDUPE_TABLE_VARIABLE } from '../../functions/core/dedupe';
import { deliveryQueueOutputs } from '../stack-outputs';
import { BridgeFunction, type BridgeFunctionProps } from './bridge-function';
import type { OwnerSecrets } from './owner-secrets';

/** SQS recommends a visibility timeout of at least six times the consumer's timeout. */
const VISIBILITY_TIMEOUT_FACTOR = 6;
/** The SQS maximum: a message is never lost to expiry before the oldest-message alarm has fired for days. */
const QUEUE_RETENTION = Duration.days(14);
const DLQ_RETENTION = Duration.days(14);

/** A dead-letter queue as every queue and job of the stack has one: 14 days, SQS-managed encryption, TLS only. */
export function deadLetterQueue(scope: Construct, id = 'DeadLetterQueue'): sqs.Queue {
  return new sqs.Queue(scope, id, { retentionPeriod: DLQ_RETENTION, encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
}

export interface DeliveryQueueProps {
  definition: DeliveryQueueDefinition;
  /** Settings (non-secret environment) the consumer reads. */
  settings: Record<string, string>;
  /** Every setting of the owner as the consumer will see it, defaults included (a schedule's interval is one). */
  deployedSettings: Record<string, string>;
  secrets: OwnerSecrets;
  /** The stack's dedupe table, for a queue whose catalogue entry dedupes, or a scheduled drain's call ledger. */
  dedupeTable?: dynamodb.ITableV2;
  /** Shared function options (log level, retention, code source, project root). */
  functionDefaults: Pick<BridgeFunctionProps, 'logLevel' | 'logRetentionDays' | 'projectRoot' | 'codeSource'>;
}

/**
 * A destination's delivery path: the queue ingress functions send to, its DLQ, and the consumer
 * that delivers. The consumer is driven either by Lambda's SQS event source (batch, window and
 * maxConcurrency from the catalogue, partial batch failures) or, for budgets below one call per
 * second (SEEN), by an EventBridge rate: one run at a time, no retries, each run receiving
 * from the queue itself and spending at most its share of the hourly budget.
 */
export class DeliveryQueue extends Construct {
  readonly definition: DeliveryQueueDefinition;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly consumer: BridgeFunction;
  readonly schedule?: events.Rule;

  constructor(scope: Construct, id: string, props: DeliveryQueueProps) {
    super(scope, id);
    const { definition } = props;
    const consumer = definition.consumer;
    const drive = definition.drive;
    this.definition = definition;

    this.deadLetterQueue = deadLetterQueue(this);
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(consumer.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: QUEUE_RETENTION,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
    });

    // Stable output keys (lib/stack-outputs.ts): `npx bridge dlq` and operators read them by name.
    const outputs = deliveryQueueOutputs(definition.id);
    new CfnOutput(this, 'QueueUrl', { key: outputs.queueUrl, value: this.queue.queueUrl, description: `${definition.id} delivery queue` });
    new CfnOutput(this, 'QueueArn', {
      key: outputs.queueArn,
      value: this.queue.queueArn,
      description: `${definition.id} delivery queue (redrive destination)`,
    });
    new CfnOutput(this, 'DeadLetterQueueArn', {
      key: outputs.dlqArn,
      value: this.deadLetterQueue.queueArn,
      description: `${definition.id} DLQ (redrive source)`,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', { key: outputs.dlqUrl, value: this.deadLetterQueue.queueUrl, description: `${definition.id} DLQ` });

    const intervalSeconds = drive.kind === 'schedule' ? scheduleInterval(definition, props.deployedSettings) : undefined;

    this.consumer = new BridgeFunction(this, 'Consumer', {
      ...props.functionDefaults,
      entry: consumer.entry,
      flowId: consumer.flowId,
      description: `${definition.id} delivery to ${definition.destination}`,
      timeoutSeconds: consumer.timeoutSeconds,
      memoryMb: consumer.memoryMb,
      // A scheduled drain budgets per run assuming runs never overlap.
      reservedConcurrentExecutions: drive.kind === 'schedule' ? 1 : undefined,
      environment: {
        ...props.settings,
        QUEUE_URL: this.queue.queueUrl,
        DLQ_URL: this.deadLetterQueue.queueUrl,
      },
    });
    const fn = this.consumer.function;
    for (const [name, value] of Object.entries(props.secrets.grantRead(definition.destination, fn))) fn.addEnvironment(name, value);
    // Records the destination refuses for good are parked in the DLQ by the consumer itself.
    this.deadLetterQueue.grantSendMessages(fn);
    // Messages it could not try (its deadline, a fault of the destination) go back as fresh copies;
    // those it tried wait their backoff through ChangeMessageVisibility, which consuming already
    // allows (functions/core/delivery/settle.ts).
    this.queue.grant(fn, 'sqs:SendMessage');
    // A queue that dedupes keeps what it delivered there; a scheduled drain its call ledger (the
    // rolling budget window every run shares: functions/core/delivery/call-ledger.ts).
    if (definition.dedupe || drive.kind === 'schedule') {
      if (!props.dedupeTable) throw new Error(`${definition.id} dedupes or keeps a call ledger: the stack must pass its dedupe table`);
      // Claim (a conditional PutItem), read (BatchGetItem), confirm and release (BatchWriteItem).
      props.dedupeTable.grant(fn, 'dynamodb:PutItem', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem');
      fn.addEnvironment(DEDUPE_TABLE_VARIABLE, props.dedupeTable.tableName);
    }

    if (drive.kind === 'event-source') {
      fn.addEventSource(
        new SqsEventSource(this.queue, {
          batchSize: drive.batchSize,
          maxBatchingWindow: Duration.seconds(drive.maxBatchingWindowSeconds),
          maxConcurrency: drive.maxConcurrencySetting
            ? Number(props.deployedSettings[drive.maxConcurrencySetting] ?? drive.maxConcurrency)
            : drive.maxConcurrency,
          reportBatchItemFailures: true,
        }),
      );
    } else {
      this.queue.grantConsumeMessages(fn);
      fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });
      this.schedule = new events.Rule(this, 'Schedule', {
        description: `Runs the ${definition.id} drain every ${intervalSeconds} s`,
        schedule: events.Schedule.rate(Duration.seconds(intervalSeconds!)),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: Duration.seconds(60) })],
      });
    }
  }
}

/** The drain interval from its setting; runs must not overlap, so the timeout is shorter than it. */
function scheduleInterval(definition: DeliveryQueueDefinition, settings: Record<string, string>): number {
  if (definition.drive.kind !== 'schedule') throw new Error('not a scheduled consumer');
  const name = definition.drive.intervalSetting;
  const seconds = Number(settings[name]);
  if (!Number.isInteger(seconds) || seconds < 60 || seconds % 60 !== 0) {
    throw new Error(`${definition.id}: ${name} must be a whole number of minutes in seconds (got ${settings[name] ?? 'nothing'})`);
  }
  if (definition.consumer.timeoutSeconds >= seconds) {
    throw new Error(`${definition.id}: consumer timeout ${definition.consumer.timeoutSeconds} s must be shorter than ${name}=${seconds}`);
  }
  return seconds;
}
