import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ScheduledJob as ScheduledJobDefinition } from '../../functions/catalogue';
import { JOB_STATE_TABLE_VARIABLE } from '../../functions/core/job-state';
import { BridgeFunction, type BridgeFunctionProps } from './bridge-function';
import { deadLetterQueue } from './delivery-queue';
import type { OwnerSecrets } from './owner-secrets';

/**
 * Errors on which the state machine invokes a step again: Lambda's own service errors and
 * throttling, a step that crashed (`States.TaskFailed` matches every error a Lambda function
 * raises, its timeout included) and a step the task timeout gave up on (`States.Timeout`, which
 * `States.TaskFailed` does not match). A retried step resumes from the state the last one saved.
 */
const STEP_RETRY_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
  'States.Timeout',
  'States.TaskFailed',
] as const;
/**
 * 30 s, 60 s, 120 s, 240 s: about 7.5 minutes of trying spans a Lambda or partner hiccup; a step
 * failing four times running is a bug or a lasting outage, and the run fails (alarmed, redrivable).
 */
const STEP_RETRY = { interval: Duration.seconds(30), backoffRate: 2, maxAttempts: 4 } as const;
/** The task gives up on an invocation this long after the step's own Lambda timeout should have ended it. */
const STEP_TASK_TIMEOUT_MARGIN_SECONDS = 60;
/**
 * The schedule target retries a StartExecution that fails (throttled, Step Functions unavailable)
 * for up to an hour, then parks the event in the job's DLQ: a run starts late rather than never.
 */
const START_RETRY_ATTEMPTS = 10;
const START_MAX_EVENT_AGE = Duration.hours(1);
/** Runs that ended badly: their status change events are parked in the job's DLQ, to redrive. */
export const UNFINISHED_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

export interface ScheduledJobProps {
  definition: ScheduledJobDefinition;
  /** The EventBridge schedule expression (validated by planDeployment). */
  schedule: string;
  /** Non-secret environment: the owner's settings and those of every partner it also reads. */
  settings: Record<string, string>;
  secrets: OwnerSecrets;
  /** The stack's job state table, where each step saves where the run stopped. */
  stateTable: dynamodb.ITableV2;
  functionDefaults: Pick<BridgeFunctionProps, 'logLevel' | 'logRetentionDays' | 'projectRoot' | 'codeSource'>;
}

/**
 * A job run as a loop of steps: an EventBridge rule on the catalogue's schedule starts a Step
 * Functions STANDARD state machine, which invokes the step function with `{runId}` (the execution's
 * name) until it answers `done`:
 *
 *     Step -> Status? -- continue --> Step
 *                     -- wait -----> Wait ($.waitSeconds) -> Step
 *                     -- done -----> Done
 *                     -- other ----> Unknown status (fails)
 *
 * A step that crashes, times out or is throttled is invoked again (STEP_RETRY, backoff) and resumes
 * from the job state table; a run longer than the catalogue's `maxRunHours` is stopped. A start
 * that fails, and every run that ends FAILED, TIMED_OUT or ABORTED (its status change event, with
 * the execution ARN to `aws stepfunctions redrive-execution`), land in the job's DLQ.
 *
 * The schedule is an EventBridge rule (aws-events) rather than an EventBridge Scheduler schedule:
 * the same service and expression syntax as the scheduled drains' rules, and its target takes the DLQ
 * and retry policy directly. Rules run in UTC (Scheduler's time zones are not needed for a nightly sync).
 */
export class ScheduledJob extends Construct {
  readonly definition: ScheduledJobDefinition;
  readonly schedule: string;
  readonly function: BridgeFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineLogGroup: logs.LogGroup;
  readonly deadLetterQueue: sqs.Queue;
  /** Starts a run on the schedule. */
  readonly scheduleRule: events.Rule;
  /** Parks the status change of a run that ended FAILED, TIMED_OUT or ABORTED. */
  readonly unfinishedRunRule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    const { definition } = props;
    this.definition = definition;
    this.schedule = props.schedule;

    this.deadLetterQueue = deadLetterQueue(this);

    this.function = new BridgeFunction(this, 'Function', {
      ...props.functionDefaults,
      entry: definition.entry,
      flowId: definition.flowId,
      description: `${definition.id}: one step of a run, invoked by its state machine (${props.schedule})`,
      timeoutSeconds: definition.timeoutSeconds,
      memoryMb: definition.memoryMb,
      environment: { ...props.settings, [JOB_STATE_TABLE_VARIABLE]: props.stateTable.tableName },
    });
    const fn = this.function.function;
    for (const owner of [...new Set([definition.destination, ...(definition.alsoReads ?? [])])]) {
      for (const [name, value] of Object.entries(props.secrets.grantRead(owner, fn))) fn.addEnvironment(name, value);
    }
    props.stateTable.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem');

    const step = new tasks.LambdaInvoke(this, 'Step', {
      comment: `One step of ${definition.id}: it works until shortly before its timeout, saves where it stopped and answers continue, wait or done`,
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({ runId: sfn.JsonPath.stringAt('$$.Execution.Name') }),
      // The step's answer ({runId, status, waitSeconds?, summary?}) becomes the state's output.
      outputPath: '$.Payload',
      // Lambda's service errors are retried below, with the crashes, on one backoff.
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(definition.timeoutSeconds + STEP_TASK_TIMEOUT_MARGIN_SECONDS)),
    });
    step.addRetry({ errors: [...STEP_RETRY_ERRORS], ...STEP_RETRY });

    const wait = new sfn.Wait(this, 'Wait', {
      comment: 'What the step waits for (e.g. an export) is not ready yet',
      time: sfn.WaitTime.secondsPath('$.waitSeconds'),
    });
    const done = new sfn.Succeed(this, 'Done', { comment: 'The run is complete; its totals are in the output summary and the step metrics' });
    const unknown = new sfn.Fail(this, 'Unknown status', {
      error: 'JobStepUnknownStatus',
      cause: 'The step answered neither continue, wait (with a numeric waitSeconds) nor done',
    });
    const status = new sfn.Choice(this, 'Status')
      .when(sfn.Condition.stringEquals('$.status', 'continue'), step)
      .when(sfn.Condition.and(sfn.Condition.stringEquals('$.status', 'wait'), sfn.Condition.isNumeric('$.waitSeconds')), wait.next(step))
      .when(sfn.Condition.stringEquals('$.status', 'done'), done)
      .otherwise(unknown);

    this.stateMachineLogGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // Step Functions' own prefix keeps CloudWatch Logs' resource policy within its size limit.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-${definition.id}`,
      retention: props.functionDefaults.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `${definition.id}: ${definition.description}`,
      definitionBody: sfn.DefinitionBody.fromChainable(step.next(status)),
      timeout: Duration.hours(definition.maxRunHours),
      // Errors only, without inputs and outputs: a step's answer holds ids and counts, but keep it out.
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: false,
    });

    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: `Starts one ${definition.id} run on ${props.schedule} (UTC)`,
      schedule: events.Schedule.expression(props.schedule),
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({ trigger: 'schedule', scheduledAt: events.EventField.time }),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: START_RETRY_ATTEMPTS,
          maxEventAge: START_MAX_EVENT_AGE,
        }),
      ],
    });
    this.unfinishedRunRule = new events.Rule(this, 'UnfinishedRuns', {
      description: `Parks each ${definition.id} run that ended ${UNFINISHED_STATUSES.join(', ')} in its DLQ (the event holds the execution ARN)`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: [...UNFINISHED_STATUSES], stateMachineArn: [this.stateMachine.stateMachineArn] },
      },
      targets: [new targets.SqsQueue(this.deadLetterQueue)],
    });

    new CfnOutput(this, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: `${definition.id}: runs on ${props.schedule}; run one by hand with aws stepfunctions start-execution --state-machine-arn <this ARN>`,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.deadLetterQueue.queueUrl,
      description:
        `${definition.id}: failed starts and runs that ended FAILED, TIMED_OUT or ABORTED (aws stepfunctions ` +
        `redrive-execution --execution-arn <detail.executionArn>)`,
    });
  }
}
