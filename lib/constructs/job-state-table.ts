import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/**
 * Where each run of a scheduled job stopped (catalogue `ScheduledJob`): a step saves its progress
 * here before it answers, so the next step, or a retried one after a crash or a timeout, resumes
 * from it. One table per stack, deployed only with a scheduled job, with the dedupe table's
 * settings: on-demand, keyed by `pk` (string), items expiring through the TTL attribute
 * `expires_at`, point-in-time recovery, AWS managed key. It holds run state (ids, cursors, counts),
 * never profiles; losing it at worst restarts a run, so it is destroyed with the stack.
 */
export class JobStateTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: 'expires_at',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
