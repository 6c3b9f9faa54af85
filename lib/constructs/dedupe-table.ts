import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/**
 * What was delivered, for the queues whose records carry an id to dedupe on (catalogue `dedupe`):
 * one on-demand DynamoDB table per stack, keyed by `pk` (`<flow>:<id>`), each item expiring through
 * the TTL attribute `expires_at`, with point-in-time recovery. It holds ids only, never payloads;
 * losing it would at worst deliver a retried event once more, so it is destroyed with the stack.
 */
export class DedupeTable extends Construct {
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
