import { Match } from 'aws-cdk-lib/assertions';
import { catalogue } from '../../functions/catalogue';
import { MetricName } from '../../functions/core/observability';
import { UNAUTHORIZED_ALARM_THRESHOLD } from '../../lib/constructs/monitoring';
import { configurations, fullConfig, idOf, lyticsConfig, minimalConfig, synthStack } from './stack-fixtures';

describe.each(configurations)('alarms (%s configuration)', (_name, configOf) => {
  const config = configOf();
  const { stack, template } = synthStack(config);
  const { plan } = stack;
  const topicId = idOf(stack, stack.monitoring.topic);
  const notifies = { AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }], TreatMissingData: 'notBreaching' };
  const name = config.stackName;

  it('are six per deployed queue, one per route, two per deployed upload job, three per deployed scheduled job and one for the API', () => {
    expect(stack.monitoring.alarms).toHaveLength(plan.queues.length * 6 + plan.flows.length + plan.jobs.length * 2 + plan.scheduledJobs.length * 3 + 1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', stack.monitoring.alarms.length);
  });

  it('fire when a queue DLQ holds anything', () => {
    for (const { id } of plan.queues) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...notifies,
        AlarmName: `${name}-${id}-dlq-not-empty`,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(stack, stack.queues.get(id)!.deadLetterQueue), 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
      });
    }
  });

  it('fire again whenever records are newly parked in a queue DLQ, by SQS (its depth, in flight included) or by the consumer (RecordsParked)', () => {
    for (const { id, consumer } of plan.queues) {
      const dlq = idOf(stack, stack.queues.get(id)!.deadLetterQueue);
      const dlqMetric = (metricName: string) =>
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: { Namespace: 'AWS/SQS', MetricName: metricName, Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }] },
            Stat: 'Maximum',
            Period: 300,
          }),
          ReturnData: false,
        });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...notifies,
        AlarmName: `${name}-${id}-records-parked`,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'MAX([DIFF(FILL(visible, REPEAT) + FILL(inFlight, 0)), FILL(parked, 0)])', ReturnData: true }),
          dlqMetric('ApproximateNumberOfMessagesVisible'),
          dlqMetric('ApproximateNumberOfMessagesNotVisible'),
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'BrazePartnerBridge',
                MetricName: MetricName.RecordsParked,
                Dimensions: Match.arrayEquals([
                  { Name: 'flow', Value: consumer.flowId },
                  { Name: 'service', Value: 'braze-partner-bridge' },
                ]),
              },
              Stat: 'Sum',
              Period: 300,
            }),
          }),
        ]),
      });
    }
  });

  it('fire when a destination refuses our key or endpoint (DestinationConfigFaults of the consumer), pointing to bridge doctor', () => {
    for (const { id, consumer } of plan.queues) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...notifies,
        AlarmName: `${name}-${id}-destination-config-fault`,
        AlarmDescription: Match.stringLikeRegexp('nothing is parked, messages wait; run `npx bridge doctor`'),
        Namespace: 'BrazePartnerBridge',
        MetricName: MetricName.DestinationConfigFaults,
        Dimensions: Match.arrayEquals([
          { Name: 'flow', Value: consumer.flowId },
          { Name: 'service', Value: 'braze-partner-bridge' },
        ]),
        Statistic: 'Sum',
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
      });
    }
  });

  it('fire on a spike of 401s on each route (RequestsUnauthorized of its flow)', () => {
    expect(UNAUTHORIZED_ALARM_THRESHOLD).toBe(20);
    for (const flow of plan.flows) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...notifies,
        AlarmName: `${name}-${flow.id}-unauthorized`,
        Namespace: 'BrazePartnerBridge',
        MetricName: MetricName.RequestsUnauthorized,
        Dimensions: Match.arrayEquals([
          { Name: 'flow', Value: flow.id },
          { Name: 'service', Value: 'braze-partner-bridge' },
        ]),
        Statistic: 'Sum',
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: UNAUTHORIZED_ALARM_THRESHOLD,
        EvaluationPeriods: 1,
      });
    }
  });

  it('fire when a queue stops draining', () => {
    for (const { id, oldestMessageAlarmSeconds } of plan.queues) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...notifies,
        AlarmName: `${name}-${id}-oldest-message`,
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(stack, stack.queues.get(id)!.queue), 'QueueName'] } }],
        // The deployment's per-queue override, else the queue's own (catalogue), else the deployment's default.
        Threshold: config.alarms.oldestMessageAgeSecondsByQueue[id] ?? oldestMessageAlarmSeconds ?? config.alarms.oldestMessageAgeSeconds,
      });
    }
  });

  it('fire on consumer errors and sustained delivery failures, under the consumer flow id', () => {
    for (const { id, consumer } of plan.queues) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...notifies,
        AlarmName: `${name}-${id}-consumer-errors`,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(stack, stack.queues.get(id)!.consumer.function) } }],
        Threshold: 1,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...notifies,
        AlarmName: `${name}-${id}-delivery-failures`,
        Namespace: 'BrazePartnerBridge',
        MetricName: MetricName.DeliveryFailures,
        Dimensions: Match.arrayEquals([
          { Name: 'flow', Value: consumer.flowId },
          { Name: 'service', Value: 'braze-partner-bridge' },
        ]),
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
      });
    }
  });

  it('fire on any failed run of a job (Lambda Errors) and on an import parked in its DLQ', () => {
    for (const { id } of plan.jobs) {
      const job = stack.jobs.get(id)!;
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...notifies,
        AlarmName: `${name}-${id}-job-errors`,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(stack, job.function.function) } }],
        Statistic: 'Sum',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...notifies,
        AlarmName: `${name}-${id}-dlq-not-empty`,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(stack, job.deadLetterQueue), 'QueueName'] } }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
      });
    }
  });

  it('fire on API 5xx', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...notifies,
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: idOf(stack, stack.api.api) } }],
      Threshold: 1,
    });
  });
});

describe('alarm topic', () => {
  const { template } = synthStack(minimalConfig());

  it('is encrypted, TLS-only and without a subscription unless an e-mail is configured', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('lets CloudWatch use the topic key', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]),
      },
    });
  });

  it('e-mails the configured address, and alarms honour per-queue age thresholds', () => {
    const full = synthStack(fullConfig()).template;

    full.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    full.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'BridgeFull-seen-receivers-oldest-message', Threshold: 7200 });
    full.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'BridgeFull-braze-track-oldest-message', Threshold: 600 });
  });

  it('alarm on the SEEN queue after the hour of backlog its catalogue entry declares normal, unless the deployment overrides it', () => {
    expect(catalogue.queue('seen-receivers').oldestMessageAlarmSeconds).toBe(3600);
    const minimal = synthStack(minimalConfig()).template;

    minimal.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'BrazePartnerBridge-seen-receivers-oldest-message', Threshold: 3600 });
    minimal.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'BrazePartnerBridge-braze-track-oldest-message', Threshold: 900 });
  });
});

describe('dashboard', () => {
  const { template } = synthStack(minimalConfig());
  const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));

  it('is named after the deployment', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'BrazePartnerBridge' });
  });

  it('charts per-route API requests, 4xx and 5xx', () => {
    for (const metric of ['Count', '4xx', '5xx']) expect(body).toContain(`[\\"AWS/ApiGateway\\",\\"${metric}\\",\\"ApiId\\"`);
    expect(body).toContain('\\"Route\\",\\"POST /seen/callback\\"');
  });

  it('charts every EMF metric of the functions', () => {
    const full = JSON.stringify(synthStack(fullConfig()).template.findResources('AWS::CloudWatch::Dashboard'));
    for (const name of Object.values(MetricName)) expect(full).toContain(`\\"BrazePartnerBridge\\",\\"${name}\\"`);
  });

  it('charts the records an ingress did not send for want of an identifier, per flow and per event type (a SEARCH of the event_type dimension)', () => {
    const full = JSON.stringify(synthStack(fullConfig()).template.findResources('AWS::CloudWatch::Dashboard'));

    expect(full).toContain('Records not sent: no identifier the destination knows');
    expect(full).toContain(`\\"BrazePartnerBridge\\",\\"${MetricName.RecordsWithoutIdentifier}\\",\\"flow\\",\\"odp-currents\\"`);
    expect(full).toContain(
      `SEARCH('{BrazePartnerBridge,event_type,flow,service} MetricName=\\\\\\"${MetricName.RecordsWithoutIdentifier}\\\\\\"', 'Sum', 300)`,
    );
  });

  it('charts queue depth, oldest message age and DLQ depth', () => {
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
    expect(body).toContain('ApproximateAgeOfOldestMessage');
    expect(body).toContain('seen-receivers DLQ');
  });

  it('has no import job widgets without jobs', () => {
    expect(body).not.toContain('Import job');
  });
});

describe.each(configurations)('dashboard (%s configuration)', (_name, configOf) => {
  const { stack, template } = synthStack(configOf());
  const { plan } = stack;
  const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
  const flowDimension = (flow: string) => `\\"flow\\",\\"${flow}\\"`;

  it('charts every deployed ingress flow, consumer and job under its flow id', () => {
    for (const flow of plan.flows) expect(body).toContain(flowDimension(flow.id));
    for (const queue of plan.queues) expect(body).toContain(flowDimension(queue.consumer.flowId));
    for (const job of plan.jobs) expect(body).toContain(flowDimension(job.flowId));
    for (const job of plan.scheduledJobs) expect(body).toContain(flowDimension(job.flowId));
  });

  it('charts each route and each queue DLQ', () => {
    for (const flow of plan.flows) expect(body).toContain(`\\"Route\\",\\"${flow.method} ${flow.path}\\"`);
    for (const queue of plan.queues) expect(body).toContain(`${queue.id} DLQ`);
  });

  it('charts each job: runs, errors, longest run, its DLQ, and names where to upload', () => {
    for (const job of plan.jobs) {
      for (const label of [`${job.id} runs`, `${job.id} errors`, `${job.id} longest run`, `${job.id} DLQ`]) expect(body).toContain(label);
      expect(body).toContain(`/${job.trigger.prefix}*${job.trigger.suffix}`);
    }
    if (plan.jobs.length > 0) expect(body).toContain('Import job DLQ depth');
  });
});

describe('Lytics monitoring', () => {
  it('covers the Lytics queue and job when Lytics is on', () => {
    const { template } = synthStack(lyticsConfig());
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties.AlarmName);

    expect(names).toEqual(
      expect.arrayContaining([
        'BrazePartnerBridge-lytics-users-dlq-not-empty',
        'BrazePartnerBridge-lytics-csv-import-job-errors',
        'BrazePartnerBridge-lytics-csv-import-dlq-not-empty',
      ]),
    );
  });
});
