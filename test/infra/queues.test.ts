import { Match } from 'aws-cdk-lib/assertions';
import * as catalogue from '../../functions/catalogue';
import { deliveryQueues, catalogue as index, ingressFlows } from '../../functions/catalogue';
import { deployedSettings, parseBridgeConfig, planDeployment } from '../../lib/config';
import { configurations, fullConfig, idOf, minimalConfig, minimalInput, synthStack } from './stack-fixtures';

const FOURTEEN_DAYS = 14 * 24 * 3600;

describe('which queues are deployed', () => {
  it('covers every catalogue queue in some configuration under test', () => {
    const deployed = new Set(configurations.flatMap(([, config]) => planDeployment(config(), catalogue).queues.map((q) => q.id)));

    expect([...deployed].sort()).toEqual(deliveryQueues.map((q) => q.id).sort());
  });

  it.each(deliveryQueues.map((q) => [q.id, q] as const))('deploys %s exactly when an enabled flow feeds it', (_id, definition) => {
    const feeders = [...new Set(ingressFlows.filter((f) => f.queue === definition.id).map((f) => f.source))];
    for (const owner of feeders) {
      const required = Object.fromEntries((index.partner(owner).settings.deployRequired ?? []).map((name) => [name, `https://${owner}.example.com/`]));
      const config = parseBridgeConfig({ braze: minimalInput.braze, partners: { [owner]: { enabled: true, settings: required } } });
      expect(synthStack(config).stack.queues.has(definition.id)).toBe(true);
    }
    const none = parseBridgeConfig({ braze: minimalInput.braze, partners: Object.fromEntries(feeders.map((owner) => [owner, { enabled: false }])) });
    expect(planDeployment(none, catalogue).queues.map((q) => q.id)).not.toContain(definition.id);
  });
});

describe.each(configurations)('delivery queues (%s configuration)', (_name, configOf) => {
  const { stack, template } = synthStack(configOf());

  it('has a DLQ after maxReceiveCount receives and a visibility of 6x its consumer timeout, for each deployed queue', () => {
    expect(stack.queues.size).toBe(stack.plan.queues.length);
    for (const definition of stack.plan.queues) {
      const queue = stack.queues.get(definition.id)!;

      expect(definition.maxReceiveCount).toBeGreaterThanOrEqual(5);
      expect(template.toJSON().Resources[idOf(stack, queue.queue)].Properties).toEqual({
        VisibilityTimeout: definition.consumer.timeoutSeconds * 6,
        MessageRetentionPeriod: FOURTEEN_DAYS,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [idOf(stack, queue.deadLetterQueue), 'Arn'] }, maxReceiveCount: definition.maxReceiveCount },
      });
    }
  });

  it("updates each queue's consumer before the ingress functions that feed it, so none sends a body an older consumer cannot read", () => {
    const resources = template.toJSON().Resources as Record<string, { DependsOn?: string[] }>;
    expect(stack.ingressFunctions.size).toBeGreaterThan(0);
    for (const flow of stack.plan.flows) {
      const ingress = resources[idOf(stack, stack.ingressFunctions.get(flow.id)!.function)];
      for (const fed of [flow.queue, ...(flow.alsoFeeds ?? [])]) {
        expect(ingress?.DependsOn).toContain(idOf(stack, stack.queues.get(fed)!.consumer.function));
      }
    }
  });

  it('keeps queued messages 14 days (1209600 s, the SQS maximum), so a stuck consumer loses nothing before its alarm is acted on', () => {
    expect(FOURTEEN_DAYS).toBe(1209600);
    expect(stack.queues.size).toBeGreaterThan(0);
    for (const queue of stack.queues.values()) {
      expect(template.toJSON().Resources[idOf(stack, queue.queue)].Properties.MessageRetentionPeriod).toBe(1209600);
    }
  });

  it('keeps dead letters 14 days, encrypted', () => {
    const dlqs = [
      ...[...stack.queues.values()].map((q) => q.deadLetterQueue),
      ...[...stack.jobs.values()].map((j) => j.deadLetterQueue),
      ...[...stack.scheduledJobs.values()].map((j) => j.deadLetterQueue),
    ];
    for (const dlq of dlqs) {
      expect(template.toJSON().Resources[idOf(stack, dlq)].Properties).toEqual({ MessageRetentionPeriod: FOURTEEN_DAYS, SqsManagedSseEnabled: true });
    }
  });

  it('refuses plain HTTP on every queue and DLQ', () => {
    const queueIds = [
      ...[...stack.queues.values()].flatMap((q) => [idOf(stack, q.queue), idOf(stack, q.deadLetterQueue)]),
      ...[...stack.jobs.values()].map((j) => idOf(stack, j.deadLetterQueue)),
      ...[...stack.scheduledJobs.values()].map((j) => idOf(stack, j.deadLetterQueue)),
    ];
    template.resourceCountIs('AWS::SQS::Queue', queueIds.length);
    for (const queueId of queueIds) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' } }),
          ]),
        },
      });
    }
  });

  it('outputs each queue and its DLQ under stable names built from the catalogue id (what bridge dlq reads), with no hash', () => {
    for (const [id, queue] of stack.queues) {
      const key = id.replace(/[^A-Za-z0-9]/g, '');
      const queueId = idOf(stack, queue.queue);
      const dlqId = idOf(stack, queue.deadLetterQueue);

      template.hasOutput(`DeliveryQueue${key}Url`, { Value: { Ref: queueId } });
      template.hasOutput(`DeliveryQueue${key}Arn`, { Value: { 'Fn::GetAtt': [queueId, 'Arn'] } });
      template.hasOutput(`DeliveryQueue${key}DlqUrl`, { Value: { Ref: dlqId } });
      template.hasOutput(`DeliveryQueue${key}DlqArn`, { Value: { 'Fn::GetAtt': [dlqId, 'Arn'] } });
    }
    expect(Object.keys(template.toJSON().Outputs).filter((key) => key.startsWith('DeliveryQueue'))).toHaveLength(4 * stack.queues.size);
  });
});

describe.each(configurations)('event-source consumers (%s configuration)', (_name, configOf) => {
  const config = configOf();
  const { stack, template } = synthStack(config);
  const eventSourced = stack.plan.queues.filter((q) => q.drive.kind === 'event-source');

  it('read their queue with the catalogue batch, window and concurrency, reporting item failures', () => {
    expect(eventSourced.length).toBeGreaterThan(0);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', eventSourced.length);
    if (config.partners['movable-ink']?.enabled) {
      // The full configuration sets MOVABLE_INK_MAX_CONCURRENCY: 5 (the catalogue's default is 2).
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 10, ScalingConfig: { MaximumConcurrency: 5 } });
    }
    for (const definition of eventSourced) {
      if (definition.drive.kind !== 'event-source') throw new Error('unreachable');
      const queue = stack.queues.get(definition.id)!;

      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [idOf(stack, queue.queue), 'Arn'] },
        FunctionName: { Ref: idOf(stack, queue.consumer.function) },
        BatchSize: definition.drive.batchSize,
        MaximumBatchingWindowInSeconds: definition.drive.maxBatchingWindowSeconds,
        // The catalogue's, or the deployment's where the queue lets a setting choose it.
        ScalingConfig: {
          MaximumConcurrency: definition.drive.maxConcurrencySetting
            ? Number(deployedSettings(config, definition.destination)[definition.drive.maxConcurrencySetting])
            : definition.drive.maxConcurrency,
        },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });
});

describe('the SEEN drain', () => {
  const { stack, template } = synthStack(minimalConfig());
  const seen = stack.queues.get('seen-receivers')!;
  const drainId = idOf(stack, seen.consumer.function);

  it('is not fed by an event source mapping: it receives from its queue itself', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));

    expect(mappings.map((m) => m.Properties.FunctionName)).not.toContainEqual({ Ref: drainId });
    expect(index.queue('seen-receivers').drive.kind).toBe('schedule');
  });

  it('runs every SEEN_DRAIN_INTERVAL_SECONDS from an EventBridge rate, never retried', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [drainId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: drainId }, MaximumRetryAttempts: 0 });
  });

  it('never runs twice at once, so per-run budgets add up to at most the hourly one', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Timeout: index.queue('seen-receivers').consumer.timeoutSeconds,
    });
    expect(index.queue('seen-receivers').consumer.timeoutSeconds).toBeLessThan(60);
  });

  it('follows a configured interval', () => {
    const full = synthStack(fullConfig());

    full.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
    full.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SEEN_DRAIN_INTERVAL_SECONDS: '120', SEEN_MAX_CALLS_PER_HOUR: '600' }) },
    });
  });
});
