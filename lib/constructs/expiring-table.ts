import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/**
 * An on-demand DynamoDB table keyed by `pk` (string), each item expiring through the TTL attribute
 * `expires_at`, with point-in-time recovery and an AWS managed key, destroyed with the stack. The
 * stack deploys two, each only when something uses it:
 * - `Dedupe`: what was delivered, for the queues whose records carry an id to dedupe on (catalogue
 *   `dedupe`), keyed `<flow>:<id>`; ids only, never payloads; losing it would at worst deliver a
 *   retried event once more. It also holds the call ledger of a scheduled drain (SEEN's rolling
 *   hour), one item per call in the window, keyed `budget:<queue>:<slot>`;
 * - `JobState`: where each run of a scheduled job (catalogue `ScheduledJob`) stopped, so the next
 *   step, or a retried one after a crash or a timeout, resumes from it; run state (ids, cursors,
 *   counts), never profiles; losing it at worst restarts a run.
 */
export class ExpiringTable extends Construct {
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
