import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import * as catalogue from '../../functions/catalogue';
import type { DeliveryQueue, IngressFlow, S3Job } from '../../functions/catalogue';
import { type Catalogue, parseBridgeConfig } from '../../lib/config';
import { ESM_REQUIRE_BANNER } from '../../lib/constructs/bridge-function';
import { bridgeFunctionResources, configurations, lyticsConfig, minimalConfig, minimalInput, projectRoot, synthStack } from './stack-fixtures';

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
  // Minimal and full: every handler the catalogue names is in one of them.
  it.each(configurations.filter(([name]) => name !== 'Lytics only'))('succeeds for the %s configuration, bundling every handler to minified ESM with a source map', (_name, config) => {
    const { stack, bundles } = bundledHandlers(config());
    const { plan } = stack;

    expect(bundles).toHaveLength(plan.flows.length + plan.queues.length + plan.jobs.length);
    expect(bundles.length).toBeGreaterThanOrEqual(4);
    for (const bundle of bundles) {
      expect(bundle.handler).toBe('index.handler');
      expect(bundle.code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(bundle.code).toMatch(/export\s*\{[^}]*as handler/);
      expect(bundle.code.length / bundle.code.split('\n').length).toBeGreaterThan(1000); // minified: long lines
      expect(bundle.code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
      expect(existsSync(path.join(bundle.dir, 'index.mjs.map'))).toBe(true);
    }
  });

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

    expect([...stack.ingressFunctions.keys()].sort()).toEqual(catalogue.ingressFlows.filter((f) => f.owner === 'lytics').map((f) => f.id).sort());
    expect([...stack.queues.keys()].sort()).toEqual(['braze-track', 'lytics-users']);
    expect([...stack.jobs.keys()]).toEqual(catalogue.jobs.filter((j) => j.owner === 'lytics').map((j) => j.id));
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'BrazePartnerBridge/lytics' });
  });
});

describe('a partner, its flows, queue and job added to the catalogue', () => {
  const activation: IngressFlow = {
    id: 'odp-activation',
    seed: '004',
    description: 'test flow',
    owner: 'odp' as IngressFlow['owner'],
    method: 'POST',
    path: '/optimizely/activation',
    entry: 'functions/seen/callback.ts',
    queue: 'odp-events' as IngressFlow['queue'],
    throttle: { rateLimit: 20, burstLimit: 40 },
  };
  const currents: IngressFlow = { ...activation, id: 'odp-currents', path: '/optimizely/currents' };
  const events: DeliveryQueue = {
    id: 'odp-events' as DeliveryQueue['id'],
    destination: 'odp' as DeliveryQueue['destination'],
    owner: 'odp' as DeliveryQueue['owner'],
    description: 'test queue',
    rateLimit: 'test',
    consumer: { kind: 'event-source', entry: 'functions/braze/track-delivery.ts', flowId: 'odp-delivery', batchSize: 50, maxBatchingWindowSeconds: 1, maxConcurrency: 2, timeoutSeconds: 30, memoryMb: 256 },
    maxReceiveCount: 7,
  };
  const profiles: S3Job = {
    id: 'odp-profile-import',
    seed: '004',
    description: 'test job',
    owner: 'odp' as S3Job['owner'],
    entry: 'functions/lytics/csv-import.ts',
    flowId: 'odp-profile-import',
    trigger: { kind: 's3', prefix: 'odp/profiles/', suffix: '.json' },
    timeoutSeconds: 300,
    memoryMb: 512,
  };
  const extended: Catalogue = {
    ingressFlows: [...catalogue.ingressFlows, activation, currents],
    deliveryQueues: [...catalogue.deliveryQueues, events],
    jobs: [...catalogue.jobs, profiles],
  };
  const config = parseBridgeConfig({
    ...minimalInput,
    partners: { seen: { enabled: true }, lytics: { enabled: true }, odp: { enabled: true, apiUrl: 'https://api.zaius.com' } },
  });
  const { stack, template } = synthStack(config, { catalogue: extended });

  it('gets its routes, throttled as the catalogue says', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /optimizely/activation' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.objectLike({ 'POST /optimizely/currents': { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40, DetailedMetricsEnabled: true } }),
    });
  });

  it('gets its queue, DLQ, consumer and event source', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 180, RedrivePolicy: Match.objectLike({ maxReceiveCount: 7 }) });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 50, ScalingConfig: { MaximumConcurrency: 2 } });
  });

  it('gets its own secret, passed to its functions with their settings', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'BrazePartnerBridge/odp' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'odp-currents: POST /optimizely/currents',
      Environment: { Variables: Match.objectLike({ ODP_SECRET_ID: { Ref: Match.stringLikeRegexp('Secretsodp') }, ODP_API_URL: 'https://api.zaius.com' }) },
    });
  });

  it('gets its alarms, under its consumer flow id', () => {
    for (const alarm of ['dlq-not-empty', 'oldest-message', 'consumer-errors', 'delivery-failures']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `BrazePartnerBridge-odp-events-${alarm}` });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliveryFailures',
      Dimensions: Match.arrayWith([{ Name: 'flow', Value: 'odp-delivery' }]),
    });
    expect(stack.queues.size).toBe(stack.plan.queues.length);
    expect([...stack.queues.keys()]).toContain('odp-events');
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
    expect(stack.plan.jobs.map((j) => j.id)).toEqual([...catalogue.jobs.map((j) => j.id), 'odp-profile-import']);
    expect(configurations.map((c) => c.Filter.Key.FilterRules)).toContainEqual(
      expect.arrayContaining([
        { Name: 'prefix', Value: 'odp/profiles/' },
        { Name: 'suffix', Value: '.json' },
      ]),
    );
    template.hasOutput('ImportPrefixodpprofileimport', { Value: { 'Fn::Join': ['', ['s3://', { Ref: Match.anyValue() }, '/odp/profiles/']] } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'BrazePartnerBridge-odp-profile-import-dlq-not-empty' });
  });
});
