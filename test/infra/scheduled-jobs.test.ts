import { Match } from 'aws-cdk-lib/assertions';
import { catalogue, scheduledJobs } from '../../functions/catalogue';
import { BridgeConfigError, ownerSettings, parseBridgeConfig, secretIdVariableName } from '../../lib/config';
import { UNFINISHED_STATUSES } from '../../lib/constructs/scheduled-job';
import { fullConfig, idOf, minimalConfig, odpConfig, odpInput, stateMachineDefinition, synthStack } from './stack-fixtures';

type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const DAY = 24 * 3600;

/** The configuration that deploys a scheduled job: its owner and every partner it also reads on (Braze always is), all defaults. */
function configFor(definition: (typeof scheduledJobs)[number]) {
  const owners = [definition.destination, ...(definition.alsoReads ?? [])].filter((id) => !catalogue.partner(id).alwaysOn);
  return parseBridgeConfig({
    braze: odpInput.braze,
    partners: Object.fromEntries(
      owners.map((id) => [
        id,
        {
          enabled: true,
          settings: Object.fromEntries((catalogue.partner(id).settings.deployRequired ?? []).map((name) => [name, `https://${id}.example.com/`])),
        },
      ]),
    ),
  });
}

describe.each(scheduledJobs.map((job) => [job.id, job] as const))('scheduled job %s', (_id, definition) => {
  const config = configFor(definition);
  const { stack, template } = synthStack(config);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const job = stack.scheduledJobs.get(definition.id)!;
  const machineId = idOf(stack, job.stateMachine);
  const fnId = idOf(stack, job.function.function);
  const dlqId = idOf(stack, job.deadLetterQueue);
  const tableId = idOf(stack, stack.jobState!.table);
  const topicId = idOf(stack, stack.monitoring.topic);
  const states = stateMachineDefinition(stack, template, job.stateMachine);
  const statementsOf = (roleId: string): Statement[] =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat()).sort();
  const envOf = () => resources[fnId]!.Properties.Environment.Variables as Record<string, unknown>;

  it('is deployed with its owner', () => {
    expect(stack.plan.scheduledJobs).toContain(definition);
    expect(job.definition).toBe(definition);
  });

  it('runs as a STANDARD state machine stopped after maxRunHours, logging errors without execution data, to its own log group', () => {
    expect(resources[machineId]!.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      LoggingConfiguration: {
        Level: 'ERROR',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [idOf(stack, job.stateMachineLogGroup), 'Arn'] } } }],
      },
      TracingConfiguration: { Enabled: false },
    });
    expect(states.TimeoutSeconds).toBe(definition.maxRunHours * 3600);
    expect(resources[idOf(stack, job.stateMachineLogGroup)]!.Properties).toMatchObject({ RetentionInDays: config.logs.retentionDays });
  });

  it('invokes the step with the run id (the execution name) and passes on its answer', () => {
    expect(states.StartAt).toBe('Step');
    const step = states.States.Step!;
    expect(step).toMatchObject({
      Type: 'Task',
      Resource: 'arn:<token>:states:::lambda:invoke',
      Parameters: { FunctionName: '<token>', Payload: { 'runId.$': '$$.Execution.Name' } },
      OutputPath: '$.Payload',
      Next: 'Status',
    });
    // The one function it invokes is this job's step.
    const joined = resources[machineId]!.Properties.DefinitionString['Fn::Join'][1] as unknown[];
    expect(joined).toContainEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    // A hung invocation is given up on shortly after the step's own Lambda timeout.
    expect(step.TimeoutSeconds).toBeGreaterThan(definition.timeoutSeconds);
    expect(step.TimeoutSeconds).toBeLessThanOrEqual(definition.timeoutSeconds + 120);
    expect(step.Catch).toBeUndefined();
  });

  it('retries a crashed, timed-out or throttled step with backoff (it resumes from the saved state)', () => {
    const retry = states.States.Step!.Retry as { ErrorEquals: string[]; IntervalSeconds: number; BackoffRate: number; MaxAttempts: number }[];

    expect(retry).toHaveLength(1);
    expect(retry[0]!.ErrorEquals).toEqual(
      expect.arrayContaining([
        'States.TaskFailed',
        'States.Timeout',
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
        'Lambda.TooManyRequestsException',
      ]),
    );
    expect(retry[0]).toMatchObject({ IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: 4 });
  });

  it('loops on the status the step answers: continue -> Step, wait -> Wait (SecondsPath) -> Step, done -> Succeed, anything else -> Fail', () => {
    const status = states.States.Status!;
    expect(status.Type).toBe('Choice');
    const choices = status.Choices as Record<string, any>[];
    const nextOn = (value: string) =>
      choices.find((choice) => choice.StringEquals === value || (choice.And as Record<string, unknown>[] | undefined)?.some((c) => c.StringEquals === value))!;

    expect(nextOn('continue')).toEqual({ Variable: '$.status', StringEquals: 'continue', Next: 'Step' });
    expect(nextOn('wait')).toEqual({
      And: [
        { Variable: '$.status', StringEquals: 'wait' },
        { Variable: '$.waitSeconds', IsNumeric: true },
      ],
      Next: 'Wait',
    });
    expect(nextOn('done').Next).toBe('Done');
    expect(choices).toHaveLength(3);
    expect(states.States.Wait).toMatchObject({ Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'Step' });
    expect(states.States.Done).toMatchObject({ Type: 'Succeed' });
    expect(states.States[status.Default as string]).toMatchObject({ Type: 'Fail', Error: 'JobStepUnknownStatus' });
    expect(Object.keys(states.States).sort()).toEqual(['Done', 'Status', 'Step', 'Wait', status.Default as string].sort());
  });

  it('is started on its schedule, a failed start retried, then parked in its DLQ', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: Match.anyValue() } })).filter((rule) =>
      JSON.stringify(rule.Properties.Targets).includes(`"Ref":"${machineId}"`),
    );
    expect(rules).toHaveLength(1);
    const [target] = rules[0]!.Properties.Targets;
    expect(rules[0]!.Properties.ScheduleExpression).toBe(job.schedule);
    expect(target).toMatchObject({
      Arn: { Ref: machineId },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
      RetryPolicy: { MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) },
    });
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    // EventBridge's role may start this state machine, nothing else.
    expect(statementsOf(target.RoleArn['Fn::GetAtt'][0])).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: machineId } }]);
  });

  it('parks the status change of every run that ended FAILED, TIMED_OUT or ABORTED in its DLQ', () => {
    expect([...UNFINISHED_STATUSES]).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: machineId }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } })],
    });
  });

  it('has a DLQ kept 14 days, encrypted, TLS only, that EventBridge may send to from its two rules only', () => {
    expect(resources[dlqId]!.Properties).toEqual({ MessageRetentionPeriod: 14 * DAY, SqsManagedSseEnabled: true });
    const [policy] = Object.values(template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: dlqId }] } }));
    const statements = policy!.Properties.PolicyDocument.Statement as (Statement & { Principal: unknown; Condition: any })[];
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const senders = statements.filter((s) => s.Effect === 'Allow');
    expect(senders.map((sender) => sender.Condition.ArnEquals['aws:SourceArn']).sort()).toEqual(
      [job.scheduleRule, job.unfinishedRunRule].map((rule) => ({ 'Fn::GetAtt': [idOf(stack, rule), 'Arn'] })).sort(),
    );
    for (const sender of senders) {
      expect(sender.Principal).toEqual({ Service: 'events.amazonaws.com' });
      expect([sender.Action].flat()).toContain('sqs:SendMessage');
    }
  });

  it('gives the step the settings of its owner and of every partner it also reads, their secret ids and the job state table, but no secret value', () => {
    const env = envOf();
    const readers = [definition.destination, ...(definition.alsoReads ?? [])];

    expect(env).toMatchObject({
      ...Object.assign({}, ...readers.map((owner) => ownerSettings(config, owner))),
      ...Object.fromEntries(readers.map((owner) => [secretIdVariableName(owner), { Ref: idOf(stack, stack.secrets.secretFor(owner)) }])),
      JOB_STATE_TABLE_NAME: { Ref: tableId },
      BRIDGE_FLOW_ID: definition.flowId,
    });
    for (const name of Object.keys(env).filter((n) => /(TOKEN|KEY|PASSWORD|SECRET)/.test(n))) expect(name).toMatch(/_SECRET_ID$/);
    expect(resources[fnId]!.Properties).toMatchObject({ Timeout: definition.timeoutSeconds, MemorySize: definition.memoryMb, Runtime: 'nodejs24.x' });
  });

  it('lets the step read the secrets of its owner and of the partners it also reads, and get and put items of the job state table (nothing more)', () => {
    const statements = statementsOf(idOf(stack, job.function.role));
    const on = (resource: unknown) => actionsOf(statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(resource)));

    for (const owner of [definition.destination, ...(definition.alsoReads ?? [])]) {
      expect(on({ Ref: idOf(stack, stack.secrets.secretFor(owner)) })).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    }
    expect(on({ 'Fn::GetAtt': [tableId, 'Arn'] })).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  it('lets the state machine invoke its step function (and its versions) only', () => {
    const statements = statementsOf(idOf(stack, job.stateMachine.role));
    const invoke = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));

    expect(invoke).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [{ 'Fn::GetAtt': [fnId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fnId, 'Arn'] }, ':*']] }],
      },
    ]);
    expect(actionsOf(statements).filter((a) => !a.startsWith('logs:'))).toEqual(['lambda:InvokeFunction']);
  });

  it('saves its progress in the one job state table: on demand, keyed by pk, TTL expires_at, point-in-time recovery, AWS managed key', () => {
    expect(resources[tableId]!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [{ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }],
    });
    expect(JSON.stringify(resources[tableId]!.Properties)).not.toContain('KMSMasterKeyId');
  });

  it('alarms on a failed run, a run that did not finish and a non-empty DLQ, to the alarm topic', () => {
    const name = config.stackName;
    const notifies = { AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }], TreatMissingData: 'notBreaching' };
    const machine = [{ Name: 'StateMachineArn', Value: { Ref: machineId } }];

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notifies,
      AlarmName: `${name}-${definition.id}-run-failed`,
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: machine,
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notifies,
      AlarmName: `${name}-${definition.id}-run-unfinished`,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(timedOut, 0) + FILL(aborted, 0)' }),
        Match.objectLike({
          Id: 'timedOut',
          MetricStat: Match.objectLike({ Metric: { Namespace: 'AWS/States', MetricName: 'ExecutionsTimedOut', Dimensions: machine }, Stat: 'Sum' }),
          ReturnData: false,
        }),
        Match.objectLike({
          Id: 'aborted',
          MetricStat: Match.objectLike({ Metric: { Namespace: 'AWS/States', MetricName: 'ExecutionsAborted', Dimensions: machine }, Stat: 'Sum' }),
          ReturnData: false,
        }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notifies,
      AlarmName: `${name}-${definition.id}-dlq-not-empty`,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  it('charts its runs by outcome, its DLQ and the totals each run reports under its flow id', () => {
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));

    for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'])
      expect(body).toContain(`[\\"AWS/States\\",\\"${metric}\\",\\"StateMachineArn\\"`);
    for (const label of [
      `${definition.id} started`,
      `${definition.id} succeeded`,
      `${definition.id} failed`,
      `${definition.id} timed out`,
      `${definition.id} DLQ`,
    ])
      expect(body).toContain(label);
    for (const metric of ['SyncSegments', 'SyncUsersRead', 'SyncProfilesSent', 'SyncProfilesRejected', 'SyncRunSeconds', 'DownstreamCalls']) {
      expect(body).toContain(`[\\"BrazePartnerBridge\\",\\"${metric}\\",\\"flow\\",\\"${definition.flowId}\\",\\"service\\",\\"braze-partner-bridge\\"`);
    }
  });

  it('outputs its state machine ARN (saying how to run it by hand) and its DLQ URL', () => {
    const outputs = Object.values(template.toJSON().Outputs as Record<string, { Value: unknown; Description?: string }>);

    expect(outputs).toContainEqual({
      Value: { Ref: machineId },
      Description: expect.stringContaining('aws stepfunctions start-execution --state-machine-arn'),
    });
    expect(outputs).toContainEqual({ Value: { Ref: dlqId }, Description: expect.stringContaining('redrive-execution') });
  });
});

describe('the ODP segment sync', () => {
  const sync = scheduledJobs.find((job) => job.id === 'odp-segment-sync')!;

  describe('with every ODP default', () => {
    const { stack, template } = synthStack(odpConfig());
    const job = stack.scheduledJobs.get(sync.id)!;
    const env = template.toJSON().Resources[idOf(stack, job.function.function)].Properties.Environment.Variables as Record<string, unknown>;

    it('runs nightly at 02:00 UTC, the schema default', () => {
      expect(sync.trigger.scheduleSetting).toBe('ODP_SYNC_SCHEDULE');
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 2 * * ? *)',
        Targets: [Match.objectLike({ Arn: { Ref: idOf(stack, job.stateMachine) } })],
      });
    });

    it('reads the Braze and ODP settings and secrets, never their keys', () => {
      expect(env).toMatchObject({
        BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com',
        ODP_API_URL: 'https://api.zaius.com',
        BRAZE_SECRET_ID: { Ref: idOf(stack, stack.secrets.secretFor('braze')) },
        ODP_SECRET_ID: { Ref: idOf(stack, stack.secrets.secretFor('odp')) },
        JOB_STATE_TABLE_NAME: { Ref: idOf(stack, stack.jobState!.table) },
      });
      for (const name of ['BRAZE_API_KEY', 'ODP_API_KEY', 'ODP_INBOUND_SECRET_ID', 'INBOUND_TOKEN']) expect(env).not.toHaveProperty(name);
    });

    it('deploys no imports bucket: ODP has no upload job', () => {
      expect(stack.plan.jobs).toEqual([]);
      expect(stack.imports).toBeUndefined();
      template.resourceCountIs('AWS::S3::Bucket', 0);
      template.resourceCountIs('Custom::S3BucketNotifications', 0);
    });

    it('deploys one job state table beside the dedupe table of the ODP events', () => {
      expect(stack.jobState).toBeDefined();
      expect(stack.dedupe).toBeDefined();
      template.resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    });
  });

  it('follows a deployment override of ODP_SYNC_SCHEDULE', () => {
    const { stack, template } = synthStack(fullConfig());
    const job = stack.scheduledJobs.get(sync.id)!;

    expect(job.schedule).toBe('cron(30 3 * * ? *)');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(30 3 * * ? *)',
      Targets: [Match.objectLike({ Arn: { Ref: idOf(stack, job.stateMachine) } })],
    });
    expect(JSON.stringify(template.findResources('AWS::Events::Rule'))).not.toContain('cron(0 2 * * ? *)');
  });

  it.each([
    ['five cron fields', 'cron(0 2 * * *)'],
    ['both day fields', 'cron(0 2 * * * *)'],
    ['a rate in seconds', 'rate(30 seconds)'],
    ['a rate shorter than a run may last (runs would overlap)', 'rate(12 hours)'],
  ])('fails the synth on %s, naming ODP_SYNC_SCHEDULE', (_name, expression) => {
    const config = parseBridgeConfig({ ...odpInput, partners: { odp: { enabled: true, settings: { ODP_SYNC_SCHEDULE: expression } } } });

    expect(() => synthStack(config)).toThrow(BridgeConfigError);
    expect(() => synthStack(config)).toThrow(/^partners\.odp\.settings\.ODP_SYNC_SCHEDULE: /);
  });

  it('accepts a rate longer than a run may last', () => {
    const config = parseBridgeConfig({ ...odpInput, partners: { odp: { enabled: true, settings: { ODP_SYNC_SCHEDULE: 'rate(1 day)' } } } });
    expect(synthStack(config).stack.scheduledJobs.get(sync.id)!.schedule).toBe('rate(1 day)');
  });

  it('is not deployed, nor any state machine or job state table, when ODP is off', () => {
    const { stack, template } = synthStack(minimalConfig());

    expect(stack.scheduledJobs.size).toBe(0);
    expect(stack.jobState).toBeUndefined();
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    // The dedupe table only, when a deployed queue dedupes.
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', stack.dedupe ? 1 : 0);
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toContain('run-failed');
  });
});
