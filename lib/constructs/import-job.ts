import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { S3Job } from '../../functions/catalogue';
import { importJobOutputs } from '../stack-outputs';
import { BridgeFunction, type BridgeFunctionProps } from './bridge-function';
import { deadLetterQueue } from './delivery-queue';
import type { OwnerSecrets } from './owner-secrets';

/** Lambda retries a failed asynchronous invocation this many times before parking the event. */
export const JOB_RETRY_ATTEMPTS = 2;
/** An event Lambda could not start (throttled) within this time is parked as well. */
const JOB_MAX_EVENT_AGE = Duration.hours(6);

export interface ImportJobProps {
  definition: S3Job;
  /** The imports bucket (shared by every job). */
  bucket: s3.Bucket;
  /** Non-secret environment: the owner's settings. */
  settings: Record<string, string>;
  secrets: OwnerSecrets;
  functionDefaults: Pick<BridgeFunctionProps, 'logLevel' | 'logRetentionDays' | 'projectRoot' | 'codeSource'>;
}

/**
 * A job started by an upload: an S3 OBJECT_CREATED notification filtered on the catalogue's
 * prefix and suffix invokes the job function asynchronously. The function may read objects under
 * its prefix only, and its owner's secret. A failed run is retried twice by Lambda; after that
 * (or when the event is older than 6 h) the invocation record, holding the S3 event and the
 * error, is sent to the job's DLQ: an import is parked, never lost, and re-run from there (docs/operations.md).
 */
export class ImportJob extends Construct {
  readonly definition: S3Job;
  readonly bucket: s3.Bucket;
  readonly function: BridgeFunction;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ImportJobProps) {
    super(scope, id);
    const { definition, bucket } = props;
    const { prefix, suffix } = definition.trigger;
    this.definition = definition;
    this.bucket = bucket;

    this.deadLetterQueue = deadLetterQueue(this);

    this.function = new BridgeFunction(this, 'Function', {
      ...props.functionDefaults,
      entry: definition.entry,
      flowId: definition.flowId,
      description: `${definition.id}: started by uploads of ${prefix}*${suffix} to the imports bucket`,
      timeoutSeconds: definition.timeoutSeconds,
      memoryMb: definition.memoryMb,
      environment: { ...props.settings },
    });
    const fn = this.function.function;
    for (const [name, value] of Object.entries(props.secrets.grantRead(definition.destination, fn))) fn.addEnvironment(name, value);
    // Read the uploads under its own prefix, nothing else: no listing, no other prefix, no writes.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${prefix}*`)] }));

    fn.configureAsyncInvoke({
      retryAttempts: JOB_RETRY_ATTEMPTS,
      maxEventAge: JOB_MAX_EVENT_AGE,
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(fn), { prefix, suffix });

    // Stable output keys (lib/stack-outputs.ts), read by name.
    const outputs = importJobOutputs(definition.id);
    new CfnOutput(this, 'FunctionName', {
      key: outputs.functionName,
      value: fn.functionName,
      description: `${definition.id} job function (re-run a parked import with lambda invoke)`,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      key: outputs.dlqUrl,
      value: this.deadLetterQueue.queueUrl,
      description: `${definition.id}: failed imports, parked`,
    });
    new CfnOutput(this, 'DeadLetterQueueArn', {
      key: outputs.dlqArn,
      value: this.deadLetterQueue.queueArn,
      description: `${definition.id}: failed imports, parked`,
    });
  }
}
