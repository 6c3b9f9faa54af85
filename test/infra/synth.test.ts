import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import * as catalogue from '../../functions/catalogue';
import { parseBridgeConfig } from '../../lib/config';
import { ESM_REQUIRE_BANNER } from '../../lib/constructs/bridge-function';
import {
  bridgeFunctionResources,
  configurations,
  idOf,
  lyticsConfig,
  minimalConfig,
  minimalInput,
  projectRoot,
  stateMachineDefinition,
  synthStack,
} from './stack-fixtures';

/**
 * The catalogue of this suite lists one more partner, `nimbus`, as a new partner folder would
 * (functions/<partner>/partner.ts plus its line in functions/catalogue.ts): off unless enabled, so
 * the other suites' configurations deploy exactly what they do with the real catalogue. The CDK
 * app must deploy it from its catalogue entry alone, never from its name.
 */
jest.mock('../../functions/catalogue', () => {
  const actual = jest.requireActual('../../functions/catalogue') as typeof import('../../functions/catalogue');
  const z = jest.requireActual('zod/mini') as typeof import('zod/mini');
  const { setting } = jest.requireActual('../../functions/core/settings') as typeof import('../../functions/core/settings');
  const activation: import('../../functions/catalogue').IngressFlow = {
    id: 'nimbus-activation',
    seed: '004',
    description: 'test flow',
    source: 'nimbus',
    method: 'POST',
    path: '/nimbus/activation',
    entry: 'functions/seen/callback.ts',
    queue: 'nimbus-events',
    auth: ['bearer'],
    throttle: { rateLimit: 20, burstLimit: 40 },
    limits: { maxRecords: 100, recordsField: 'records', maxDepth: 8 },
    caller: 'test caller',
  };
  const nimbus: import('../../functions/catalogue').Partner = {
    id: 'nimbus',
    description: 'test partner',
    settings: {
      schema: z.object({ NIMBUS_API_URL: setting.optionalUrl(), NIMBUS_SYNC_SCHEDULE: setting.text('rate(6 hours)', /^(cron|rate)\(.+\)$/) }),
      deployDefaults: { NIMBUS_API_URL: 'https://api.nimbus.example' },
    },
    secret: { inbound: true, outbound: ['api_key'] },
    // A route keyed with the partner's API key: it may read the outbound secret too.
    flows: [activation, { ...activation, id: 'nimbus-currents', path: '/nimbus/currents', auth: ['signature'] }],
    queues: [
      {
        id: 'nimbus-events',
        destination: 'nimbus',
        lane: 'realtime',
        description: 'test queue',
        rateLimit: 'test',
        limits: { itemsPerCall: 100, concurrency: 2 },
        drive: { kind: 'event-source', batchSize: 50, maxBatchingWindowSeconds: 1, maxConcurrency: 2 },
        consumer: { entry: 'functions/braze/track-delivery.ts', flowId: 'nimbus-delivery', timeoutSeconds: 30, memoryMb: 256 },
        maxReceiveCount: 7,
      },
    ],
    jobs: [
      {
        id: 'nimbus-profile-import',
        seed: '004',
        description: 'test job',
        destination: 'nimbus',
        entry: 'functions/lytics/csv-import.ts',
        flowId: 'nimbus-profile-import',
        trigger: { kind: 's3', prefix: 'nimbus/profiles/', suffix: '.json' },
        timeoutSeconds: 300,
        memoryMb: 512,
      },
      {
        id: 'nimbus-segment-sync',
        seed: '004',
        description: 'test scheduled job',
        destination: 'nimbus',
        // Reads Braze's settings and secret too, as a sync out of Braze would.
        alsoReads: ['braze'],
        entry: 'functions/lytics/csv-import.ts',
        flowId: 'nimbus-segment-sync',
        trigger: { kind: 'schedule', scheduleSetting: 'NIMBUS_SYNC_SCHEDULE' },
        timeoutSeconds: 600,
        memoryMb: 256,
        maxRunHours: 5,
        localScript: 'sync:nimbus',
      },
    ],
  };
  const partners = [...actual.partners, nimbus];
  const { catalogueIndex } = jest.requireActual('../../functions/core/catalogue-index') as typeof import('../../functions/core/catalogue-index');
  const catalogue = catalogueIndex(partners);
  return {
    ...actual,
    partners,
    catalogue,
    ingressFlows: catalogue.flows,
    deliveryQueues: catalogue.queues,
    jobs: catalogue.jobs,
    uploadJobs: catalogue.uploadJobs,
    scheduledJobs: catalogue.scheduledJobs,
  };
});

/** Synthesises with the real local esbuild bundling and returns every bundled handler. */
function bundledHandlers(config: ReturnType<typeof minimalConfig>) {
  const { app, stack, template } = synthStack(config, { bundle: true });
  const assembly = app.synth();
  const bundles = bridgeFunctionResources(stack, template).map((fn) => {
    const key = fn.Properties.Code.S3Key as string;
    const dir = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
    return { dir, code: readFileSync(path.join(dir, 'index.mjs'), 'utf8'), handler: fn.Properties.Handler as string };
  });
  return { stack, bundles };
}

describe('cdk synth with real bundling', () => {
  // The full configuration holds every handler the catalogue names (the others hold subsets of them).
  it.each(configurations.filter(([name]) => name === 'full'))(
    'succeeds for the %s configuration, bundling every handler to minified ESM with a source map',
    (_name, config) => {
      const { stack, bundles } = bundledHandlers(config());
      const { plan } = stack;

      expect(bundles).toHaveLength(plan.flows.length + plan.queues.length + plan.jobs.length + plan.scheduledJobs.length);
      expect(bundles.length).toBeGreaterThanOrEqual(4);
      for (const bundle of bundles) {
        expect(bundle.handler).toBe('index.handler');
        expect(bundle.code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
        expect(bundle.code).toMatch(/export\s*\{[^}]*as handler/);
        expect(bundle.code.length / bundle.code.split('\n').length).toBeGreaterThan(1000); // minified: long lines
        expect(bundle.code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
        expect(existsSync(path.join(bundle.dir, 'index.mjs.map'))).toBe(true);
      }
    },
  );

  it('finds every handler module the catalogue names', () => {
    const entries = [
      ...catalogue.ingressFlows.map((f) => f.entry),
      ...catalogue.deliveryQueues.map((q) => q.consumer.entry),
      ...catalogue.jobs.map((j) => j.entry),
    ];
    for (const entry of entries) expect(existsSync(path.join(projectRoot, entry))).toBe(true);
  });
});

describe('what is deployed follows the configuration', () => {
  it('deploys no SEEN route, queue or secret when SEEN is disabled', () => {
    const config = parseBridgeConfig({ ...minimalInput, partners: { seen: { enabled: false } } });

    const { template } = synthStack(config);

    template.resourceCountIs('AWS::ApiGatewayV2::Route', 0);
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    // Braze's outbound secret only: nobody calls in, so no inbound token.
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'BrazePartnerBridge/braze' });
    template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  it('deploys no Lytics route, queue, job, bucket or secret when Lytics is disabled', () => {
    const config = parseBridgeConfig({ ...minimalInput, partners: { seen: { enabled: true }, lytics: { enabled: false } } });

    const { stack, template } = synthStack(config);

    expect(JSON.stringify(template.findResources('AWS::ApiGatewayV2::Route'))).not.toContain('/lytics/');
    expect([...stack.queues.keys()]).not.toContain('lytics-users');
    expect(stack.jobs.size).toBe(0);
    expect(stack.imports).toBeUndefined();
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/LYTICS_|BrazePartnerBridge\/lytics/);
  });

  it('deploys the Lytics routes, queue, job, bucket and secret when Lytics is the only partner', () => {
    const { stack, template } = synthStack(lyticsConfig());

    expect([...stack.ingressFunctions.keys()].sort()).toEqual(
      catalogue.ingressFlows
        .filter((f) => f.source === 'lytics')
        .map((f) => f.id)
        .sort(),
    );
    expect([...stack.queues.keys()].sort()).toEqual(['braze-track-bulk', 'lytics-users']);
    expect([...stack.jobs.keys()]).toEqual(catalogue.jobs.filter((j) => j.destination === 'lytics').map((j) => j.id));
    template.resourceCountIs('AWS::S3::Bucket', 2);
    const secretNames = Object.values(template.findResources('AWS::SecretsManager::Secret')).map((secret) => secret.Properties.Name);
    expect(secretNames.sort()).toEqual(['BrazePartnerBridge/braze', 'BrazePartnerBridge/lytics', 'BrazePartnerBridge/lytics/inbound']);
  });
});

describe('a partner, its flows, queue and job added to the catalogue', () => {
  const config = parseBridgeConfig({
    ...minimalInput,
    partners: { seen: { enabled: true }, lytics: { enabled: true }, nimbus: { enabled: true, settings: { NIMBUS_API_URL: 'https://api.eu.nimbus.example' } } },
  });
  const { stack, template } = synthStack(config);
  const envOf = (fn: Parameters<typeof idOf>[1]) => template.toJSON().Resources[idOf(stack, fn)].Properties.Environment.Variables;

  it('is off until its section enables it', () => {
    expect(synthStack(minimalConfig()).stack.plan.owners).not.toContain('nimbus');
    expect(stack.plan.owners).toContain('nimbus');
  });

  it('gets its routes, throttled as the catalogue says', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /nimbus/activation' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.objectLike({ 'POST /nimbus/currents': { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40, DetailedMetricsEnabled: true } }),
    });
  });

  it('gets its queue, DLQ, consumer and event source', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 180, RedrivePolicy: Match.objectLike({ maxReceiveCount: 7 }) });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 50, ScalingConfig: { MaximumConcurrency: 2 } });
  });

  it('gets its own secrets, passed to its functions with their settings', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'BrazePartnerBridge/nimbus' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'BrazePartnerBridge/nimbus/inbound' });
    const outbound = { Ref: idOf(stack, stack.secrets.secretFor('nimbus')) };
    const inbound = { Ref: idOf(stack, stack.secrets.inboundSecretFor('nimbus')) };

    const activation = envOf(stack.ingressFunctions.get('nimbus-activation')!.function);
    expect(activation).toMatchObject({
      NIMBUS_INBOUND_SECRET_ID: inbound,
      NIMBUS_API_URL: 'https://api.eu.nimbus.example',
      BRIDGE_FLOW_ID: 'nimbus-activation',
    });
    expect(activation).not.toHaveProperty('NIMBUS_SECRET_ID');
    expect(envOf(stack.queues.get('nimbus-events')!.consumer.function)).toMatchObject({
      NIMBUS_SECRET_ID: outbound,
      NIMBUS_API_URL: 'https://api.eu.nimbus.example',
      BRIDGE_FLOW_ID: 'nimbus-delivery',
    });
    expect(envOf(stack.jobs.get('nimbus-profile-import')!.function.function)).toMatchObject({
      NIMBUS_SECRET_ID: outbound,
      BRIDGE_FLOW_ID: 'nimbus-profile-import',
    });
  });

  it('lets a route that checks a signature read the outbound secret its key is in, besides the inbound one', () => {
    const currents = stack.ingressFunctions.get('nimbus-currents')!;
    const outbound = { Ref: idOf(stack, stack.secrets.secretFor('nimbus')) };
    const inbound = { Ref: idOf(stack, stack.secrets.inboundSecretFor('nimbus')) };
    const readable = (role: Parameters<typeof idOf>[1]) =>
      (
        Object.values(template.findResources('AWS::IAM::Policy')) as {
          Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } };
        }[]
      )
        .filter((policy) => policy.Properties.Roles.some((r) => r.Ref === idOf(stack, role)))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
        .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
        .map((statement) => statement.Resource);

    expect(envOf(currents.function)).toMatchObject({ NIMBUS_SECRET_ID: outbound, NIMBUS_INBOUND_SECRET_ID: inbound });
    expect(readable(currents.role)).toEqual(expect.arrayContaining([outbound, inbound]));
    expect(readable(stack.ingressFunctions.get('nimbus-activation')!.role)).toEqual([inbound]);
  });

  it('gets its alarms, under its consumer flow id', () => {
    for (const alarm of ['dlq-not-empty', 'oldest-message', 'consumer-errors', 'delivery-failures']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `BrazePartnerBridge-nimbus-events-${alarm}` });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliveryFailures',
      Dimensions: Match.arrayWith([{ Name: 'flow', Value: 'nimbus-delivery' }]),
    });
    expect(stack.queues.size).toBe(stack.plan.queues.length);
    expect([...stack.queues.keys()]).toContain('nimbus-events');
  });

  it('gets its job in the one imports bucket, beside the existing jobs, each on its own prefix', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2); // imports + their access logs
    template.resourceCountIs('Custom::S3BucketNotifications', 1);
    const [notifications] = Object.values(template.findResources('Custom::S3BucketNotifications'));
    const configurations = notifications!.Properties.NotificationConfiguration.LambdaFunctionConfigurations as {
      Filter: { Key: { FilterRules: { Name: string; Value: string }[] } };
      LambdaFunctionArn: unknown;
    }[];

    expect(configurations).toHaveLength(stack.plan.jobs.length);
    expect(stack.plan.jobs.map((j) => j.id)).toEqual([
      ...catalogue.uploadJobs.filter((j) => j.destination !== 'nimbus').map((j) => j.id),
      'nimbus-profile-import',
    ]);
    expect(configurations.map((c) => c.Filter.Key.FilterRules)).toContainEqual(
      expect.arrayContaining([
        { Name: 'prefix', Value: 'nimbus/profiles/' },
        { Name: 'suffix', Value: '.json' },
      ]),
    );
    template.hasOutput('ImportPrefixnimbusprofileimport', { Value: { 'Fn::Join': ['', ['s3://', { Ref: Match.anyValue() }, '/nimbus/profiles/']] } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'BrazePartnerBridge-nimbus-profile-import-dlq-not-empty' });
  });
});

describe('a scheduled job added to the catalogue', () => {
  const config = parseBridgeConfig({
    ...minimalInput,
    partners: { nimbus: { enabled: true, settings: { NIMBUS_API_URL: 'https://api.eu.nimbus.example', NIMBUS_SYNC_SCHEDULE: 'cron(30 4 ? * MON *)' } } },
  });
  const { stack, template } = synthStack(config);
  const job = stack.scheduledJobs.get('nimbus-segment-sync')!;

  it('is deployed from its catalogue entry: a step function, a state machine stopped after maxRunHours, its schedule, its DLQ', () => {
    expect(stack.plan.scheduledJobs.map((j) => j.id)).toEqual(['nimbus-segment-sync']);
    expect(job).toBeDefined();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
    expect(stateMachineDefinition(stack, template, job.stateMachine).TimeoutSeconds).toBe(5 * 3600);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(30 4 ? * MON *)' });
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^nimbus-segment-sync:'), Timeout: 600, MemorySize: 256 });
  });

  it('gets the settings and secret ids of its partner and of Braze, and the job state table', () => {
    const env = template.toJSON().Resources[idOf(stack, job.function.function)].Properties.Environment.Variables;

    expect(env).toMatchObject({
      NIMBUS_API_URL: 'https://api.eu.nimbus.example',
      NIMBUS_SYNC_SCHEDULE: 'cron(30 4 ? * MON *)',
      BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com',
      NIMBUS_SECRET_ID: { Ref: idOf(stack, stack.secrets.secretFor('nimbus')) },
      BRAZE_SECRET_ID: { Ref: idOf(stack, stack.secrets.secretFor('braze')) },
      JOB_STATE_TABLE_NAME: { Ref: idOf(stack, stack.jobState!.table) },
      BRIDGE_FLOW_ID: 'nimbus-segment-sync',
    });
  });

  it('gets its three alarms', () => {
    for (const alarm of ['run-failed', 'run-unfinished', 'dlq-not-empty']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `BrazePartnerBridge-nimbus-segment-sync-${alarm}` });
    }
  });

  it('falls back on its schema default schedule', () => {
    const defaults = synthStack(parseBridgeConfig({ ...minimalInput, partners: { nimbus: { enabled: true } } }));

    defaults.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
  });
});
