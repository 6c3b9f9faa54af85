import type { CfnElement, Stack } from 'aws-cdk-lib';
import { CfnRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { ImportJob } from './constructs/import-job';
import { ImportsBucket } from './constructs/imports-bucket';
import { ScheduledJob } from './constructs/scheduled-job';

/**
 * AwsSolutions findings the bridge acknowledges, each with the reason. Matched by resource type
 * or construct class, so a flow or job added to the catalogue is covered without touching this
 * file; wildcard and managed-policy findings only for the exact resource or policy named
 * (`appliesTo`). Anything else the checks report fails `cdk synth` and test/infra/nag.test.ts.
 */
export const NAG_REASONS = {
  'AwsSolutions-APIG4':
    'Callers are partner platforms and Braze webhooks, which can neither sign with IAM nor fetch JWTs. Every route ' +
    'authenticates in its function before anything is parsed or queued: a per-partner token (Authorization: Bearer ' +
    'or ?token=) compared in constant time, or an HMAC signature of the raw body (SPEC section 3). A Lambda authorizer ' +
    'would repeat the same secret lookup on a second function per request.',
  'AwsSolutions-SMG4':
    'The secrets hold credentials issued by Braze and the partners (REST API keys, API tokens) and our inbound token ' +
    'shared with a partner: rotating any of them needs a step at the other side, which a rotation Lambda cannot do. ' +
    'They are rotated by hand with put-secret-value (docs/deploy.md); functions cache values for 5 minutes, so no redeploy.',
  'AwsSolutions-SQS3':
    "This queue is itself a dead-letter queue: the on-failure destination of an import job's asynchronous invocation, " +
    "where Lambda parks the S3 event with the error once its retries are spent; or a scheduled job's, where EventBridge " +
    'parks a schedule event it could not start the state machine with and the status change of each run that ended ' +
    "FAILED, TIMED_OUT or ABORTED. cdk-nag only recognises DLQs named in another queue's RedrivePolicy; a DLQ of a DLQ " +
    'would only move parked imports and runs further from the operator.',
  'AwsSolutions-IAM4':
    "Only the role of the CDK's deploy-time handler for Custom::S3BucketNotifications, which writes the imports " +
    "bucket's notification configuration when the stack is deployed: CDK always attaches AWSLambdaBasicExecutionRole " +
    '(logs of that handler, whose log group name is not known in advance). Its other permission is ' +
    's3:PutBucketNotification on the imports bucket alone; no runtime function uses a managed policy.',
  'AwsSolutions-IAM5':
    "Only three exact wildcards. (1) s3:GetObject on the objects under an import job's own upload prefix " +
    '(bucket/<prefix>*): the job reads whatever file an operator uploads there, whose key is not known in advance; no ' +
    "listing, no write, no other prefix. (2) lambda:InvokeFunction on <step function ARN>:* for a scheduled job's state " +
    "machine: CDK's LambdaInvoke task grants the function and its versions and aliases; the role can invoke that one " +
    'step function and nothing else. (3) Resource * on that state machine role for the CloudWatch Logs delivery actions ' +
    '(logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, ' +
    'DescribeResourcePolicies, DescribeLogGroups), which Step Functions logging requires and which support no resource ARN.',
  'AwsSolutions-SF1':
    "A scheduled job's state machine logs ERROR events only, without execution data: every state transition of a " +
    'nightly loop of steps would add little to the execution history Step Functions keeps anyway (90 days, per state), ' +
    "and a step's input and output stay out of the logs. Failed, timed-out and aborted runs alarm and land in the job DLQ.",
  'AwsSolutions-SF2':
    'No function of the bridge is traced with X-Ray (none is on a latency-sensitive path worth the cost): a scheduled ' +
    "job's run is followed through its execution history, the step's structured logs and EMF metrics under its flow " +
    "id, and the state machine's CloudWatch metrics and alarms.",
} as const;

type NagRule = keyof typeof NAG_REASONS;

function suppress(resource: IConstruct, id: NagRule, appliesTo?: string[], applyToChildren = false): void {
  NagSuppressions.addResourceSuppressions(resource, [{ id, reason: NAG_REASONS[id], ...(appliesTo ? { appliesTo } : {}) }], applyToChildren);
}

export function applyNagSuppressions(stack: Stack): void {
  for (const construct of stack.node.findAll()) {
    if (construct instanceof CfnRoute) suppress(construct, 'AwsSolutions-APIG4');
    if (construct instanceof CfnSecret) suppress(construct, 'AwsSolutions-SMG4');
    if (construct instanceof ImportsBucket) {
      suppress(construct.notificationsHandlerRole, 'AwsSolutions-IAM4', [
        'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      ]);
    }
    if (construct instanceof ImportJob) {
      suppress(construct.deadLetterQueue, 'AwsSolutions-SQS3');
      // `Resource::<ImportsBucket....Arn>/lytics/*`: the bucket's objects under this job's prefix, nothing wider.
      const bucketId = stack.getLogicalId(construct.bucket.node.defaultChild as CfnElement);
      const objects = `Resource::<${bucketId}.Arn>/${construct.definition.trigger.prefix}*`;
      suppress(construct.function.role, 'AwsSolutions-IAM5', [objects], true);
    }
    if (construct instanceof ScheduledJob) {
      suppress(construct.deadLetterQueue, 'AwsSolutions-SQS3');
      suppress(construct.stateMachine, 'AwsSolutions-SF1');
      suppress(construct.stateMachine, 'AwsSolutions-SF2');
      // `Resource::<...Function....Arn>:*`: the versions and aliases of this job's step function, nothing wider.
      const functionId = stack.getLogicalId(construct.function.function.node.defaultChild as CfnElement);
      suppress(construct.stateMachine.role, 'AwsSolutions-IAM5', [`Resource::<${functionId}.Arn>:*`], true);
      // Log delivery actions take no resource ARN (Step Functions logging to CloudWatch Logs).
      suppress(construct.stateMachine.role, 'AwsSolutions-IAM5', ['Resource::*'], true);
    }
  }
}
