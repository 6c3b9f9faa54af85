import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { brazeSettings } from '../../functions/braze/settings';
import { type CatalogueEntry, catalogue, deliveryQueues, entryFor, flowOf, ingressFlows, jobs, partners } from '../../functions/catalogue';
import { loadConfig } from '../../functions/core/config';
import { loadSettings } from '../../functions/core/settings';
import { seenSettings } from '../../functions/seen/settings';
import { type BridgeStack, INGRESS_MEMORY_MB, INGRESS_TIMEOUT_SECONDS } from '../../lib/bridge-stack';
import { inboundSecretIdVariableName, ownerSettings, partnerDeployment, secretIdVariableName } from '../../lib/config';
import {
  bridgeFunctionResources,
  configurations,
  fullConfig,
  idOf,
  importedLyticsInboundSecretArn,
  importedSeenSecretArn,
  lyticsConfig,
  minimalConfig,
  projectRoot,
  synthStack,
} from './stack-fixtures';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function functionResource(template: Template, stack: BridgeStack, fn: Parameters<typeof idOf>[1]): Resource {
  return template.toJSON().Resources[idOf(stack, fn)] as Resource;
}

/** Every statement of the inline policies attached to a role. */
function statementsOf(template: Template, roleId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
  return policies.filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const actions = (statements: { Action: string | string[] }[]) => statements.flatMap((s) => [s.Action].flat()).sort();

describe.each(configurations)('functions (%s configuration)', (_name, configOf) => {
  const config = configOf();
  const { stack, template } = synthStack(config);
  const { plan } = stack;
  const functions = bridgeFunctionResources(stack, template);

  it('are one per enabled flow, queue consumer and job (upload or scheduled), and run Node.js 24 on arm64', () => {
    expect(functions).toHaveLength(plan.flows.length + plan.queues.length + plan.jobs.length + plan.scheduledJobs.length);
    // Besides them, only CDK's deploy-time handler writing the imports bucket notifications.
    template.resourceCountIs('AWS::Lambda::Function', functions.length + (plan.jobs.length > 0 ? 1 : 0));
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    }
  });

  it('log to their own log group with the configured retention, with Powertools named and no source map parsed at cold start', () => {
    for (const fn of functions) {
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(template.toJSON().Resources[logGroupId]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: config.logs.retentionDays },
      });
      expect(fn.Properties.Environment.Variables).toMatchObject({
        LOG_LEVEL: config.logs.level,
        POWERTOOLS_SERVICE_NAME: 'braze-partner-bridge',
        POWERTOOLS_METRICS_NAMESPACE: 'BrazePartnerBridge',
      });
      // --enable-source-maps would parse each bundle's map at every cold start (lib/constructs/bridge-function.ts).
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS ?? '').not.toContain('--enable-source-maps');
    }
  });

  it('size ingress functions for the API Gateway deadline, consumers and jobs from the catalogue', () => {
    for (const flow of plan.flows) {
      const fn = functionResource(template, stack, stack.ingressFunctions.get(flow.id)!.function);
      expect(fn.Properties).toMatchObject({ Timeout: INGRESS_TIMEOUT_SECONDS, MemorySize: INGRESS_MEMORY_MB });
    }
    expect(INGRESS_TIMEOUT_SECONDS).toBeLessThan(30);
    for (const queue of plan.queues) {
      const fn = functionResource(template, stack, stack.queues.get(queue.id)!.consumer.function);
      expect(fn.Properties).toMatchObject({ Timeout: queue.consumer.timeoutSeconds, MemorySize: queue.consumer.memoryMb });
    }
    for (const job of plan.jobs) {
      const fn = functionResource(template, stack, stack.jobs.get(job.id)!.function.function);
      expect(fn.Properties).toMatchObject({ Timeout: job.timeoutSeconds, MemorySize: job.memoryMb });
    }
    for (const job of plan.scheduledJobs) {
      const fn = functionResource(template, stack, stack.scheduledJobs.get(job.id)!.function.function);
      expect(fn.Properties).toMatchObject({ Timeout: job.timeoutSeconds, MemorySize: job.memoryMb });
    }
  });

  it('give ingress functions their flow id, queue URL, their owner inbound secret id and the owner and queue owner settings', () => {
    for (const flow of plan.flows) {
      const env = functionResource(template, stack, stack.ingressFunctions.get(flow.id)!.function).Properties.Environment.Variables;
      const queueOwner = catalogue.queue(flow.queue).destination;
      expect(env).toMatchObject({
        BRIDGE_FLOW_ID: flow.id,
        QUEUE_URL: { Ref: idOf(stack, stack.queues.get(flow.queue)!.queue) },
        [inboundSecretIdVariableName(flow.source)]: stack.resolve(stack.secrets.inboundSecretFor(flow.source).secretArn),
        ...ownerSettings(config, flow.source),
        ...ownerSettings(config, queueOwner),
      });
      // The outbound credentials only where the route checks a signature keyed with them.
      if (!flow.auth.includes('signature')) expect(env).not.toHaveProperty(secretIdVariableName(flow.source));
      expect(env).not.toHaveProperty('DLQ_URL');
    }
  });

  it('give into-Braze ingress functions the Braze settings they size messages with', () => {
    for (const flow of plan.flows.filter((f) => catalogue.queue(f.queue).destination === 'braze')) {
      const env = functionResource(template, stack, stack.ingressFunctions.get(flow.id)!.function).Properties.Environment.Variables;
      expect(env).toMatchObject(ownerSettings(config, 'braze'));
      expect(env.BRAZE_REST_ENDPOINT).toBe(ownerSettings(config, 'braze').BRAZE_REST_ENDPOINT);
    }
  });

  it('give consumers their flow id, queue, DLQ, owner outbound secret id and owner settings', () => {
    for (const queue of plan.queues) {
      const delivery = stack.queues.get(queue.id)!;
      const env = functionResource(template, stack, delivery.consumer.function).Properties.Environment.Variables;
      expect(env).toMatchObject({
        BRIDGE_FLOW_ID: queue.consumer.flowId,
        QUEUE_URL: { Ref: idOf(stack, delivery.queue) },
        DLQ_URL: { Ref: idOf(stack, delivery.deadLetterQueue) },
        [secretIdVariableName(queue.destination)]: stack.resolve(stack.secrets.secretFor(queue.destination).secretArn),
        ...ownerSettings(config, queue.destination),
      });
      for (const owner of plan.owners) expect(env).not.toHaveProperty(inboundSecretIdVariableName(owner));
    }
  });

  it('give jobs their flow id, owner outbound secret id and settings, and no queue', () => {
    for (const job of plan.jobs) {
      const env = functionResource(template, stack, stack.jobs.get(job.id)!.function.function).Properties.Environment.Variables;
      expect(env).toMatchObject({
        BRIDGE_FLOW_ID: job.flowId,
        [secretIdVariableName(job.destination)]: stack.resolve(stack.secrets.secretFor(job.destination).secretArn),
        ...ownerSettings(config, job.destination),
      });
      expect(env).not.toHaveProperty('QUEUE_URL');
      expect(env).not.toHaveProperty(inboundSecretIdVariableName(job.destination));
    }
  });

  it(
    'give scheduled job steps their flow id, the job state table, and the outbound secret ids and settings ' +
      'of their owner and every partner they also read',
    () => {
      for (const job of plan.scheduledJobs) {
        const scheduled = stack.scheduledJobs.get(job.id)!;
        const env = functionResource(template, stack, scheduled.function.function).Properties.Environment.Variables;
        const readers = [job.destination, ...(job.alsoReads ?? [])];
        expect(env).toMatchObject({
          BRIDGE_FLOW_ID: job.flowId,
          JOB_STATE_TABLE_NAME: { Ref: idOf(stack, stack.jobState!.table) },
          ...Object.fromEntries(readers.map((owner) => [secretIdVariableName(owner), stack.resolve(stack.secrets.secretFor(owner).secretArn)])),
          ...Object.assign({}, ...readers.map((owner) => ownerSettings(config, owner))),
        });
        for (const owner of plan.owners) expect(env).not.toHaveProperty(inboundSecretIdVariableName(owner));
        expect(env).not.toHaveProperty('QUEUE_URL');
      }
    },
  );

  it('hold no secret values in their environment, only secret ids, and pass the functions own config and settings schemas', () => {
    const secretIds = new Set(Object.keys(template.findResources('AWS::SecretsManager::Secret')));
    for (const fn of functions) {
      const env = fn.Properties.Environment.Variables as Record<string, unknown>;
      for (const name of ['BRAZE_API_KEY', 'SEEN_API_TOKEN', 'LYTICS_API_TOKEN', 'INBOUND_TOKEN']) expect(env).not.toHaveProperty(name);
      for (const [name, value] of Object.entries(env)) {
        if (/(TOKEN|KEY|PASSWORD|SECRET)/.test(name)) {
          expect(name).toMatch(/_SECRET_ID$/);
          if (typeof value !== 'string') expect(secretIds.has((value as { Ref: string }).Ref)).toBe(true);
        }
      }
      // Tokens stand in for queue URLs and ARNs: the rest must satisfy functions/core/config.ts and
      // every partner's settings schema (what the functions read at cold start).
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : `resolved-${k}`]));
      expect(() => loadConfig(resolved)).not.toThrow();
      for (const partner of partners) expect(() => loadSettings(partner.settings.schema, resolved)).not.toThrow();
    }
  });
});

describe('function settings', () => {
  it('give the SEEN functions the SEEN settings', () => {
    const { stack, template } = synthStack(minimalConfig());
    const seen = functionResource(template, stack, stack.queues.get('seen-receivers')!.consumer.function).Properties.Environment.Variables;
    const braze = functionResource(template, stack, stack.queues.get('braze-track')!.consumer.function).Properties.Environment.Variables;

    expect(braze).toMatchObject({
      BRAZE_SECRET_ID: { Ref: idOf(stack, stack.secrets.secretFor('braze')) },
      BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com',
    });
    expect(loadSettings(brazeSettings, braze).BRAZE_MAX_OBJECTS_PER_REQUEST).toBe(75);
    expect(seen).toMatchObject({
      SEEN_SECRET_ID: { Ref: idOf(stack, stack.secrets.secretFor('seen')) },
      SEEN_API_URL: 'https://api.seen.io',
    });
    expect(loadSettings(seenSettings, seen)).toMatchObject({ SEEN_MAX_CALLS_PER_HOUR: 1000, SEEN_DRAIN_INTERVAL_SECONDS: 60 });
    // The Braze consumer reads Braze's settings only, the SEEN drain SEEN's only.
    expect(Object.keys(braze).some((name) => name.startsWith('SEEN_'))).toBe(false);
    expect(Object.keys(seen).some((name) => name.startsWith('BRAZE_'))).toBe(false);
  });

  it('give the Lytics functions the Lytics deploy defaults, and the audiences ingress the Braze settings too', () => {
    const { stack, template } = synthStack(lyticsConfig());
    const lyticsDefaults = { LYTICS_API_URL: 'https://api.lytics.io', LYTICS_BULK_API_URL: 'https://bulk.lytics.io' };
    const lyticsFunctions = [
      ...ingressFlows.filter((f) => f.source === 'lytics').map((f) => stack.ingressFunctions.get(f.id)!.function),
      ...deliveryQueues.filter((q) => q.destination === 'lytics').map((q) => stack.queues.get(q.id)!.consumer.function),
      ...jobs.filter((j) => j.destination === 'lytics').map((j) => stack.jobs.get(j.id)!.function.function),
    ];

    expect(lyticsFunctions.length).toBeGreaterThanOrEqual(4);
    for (const fn of lyticsFunctions) {
      expect(functionResource(template, stack, fn).Properties.Environment.Variables).toMatchObject(lyticsDefaults);
      expect(functionResource(template, stack, fn).Properties.Environment.Variables).not.toHaveProperty('LYTICS_STREAM');
    }
    const audiences = functionResource(template, stack, stack.ingressFunctions.get('lytics-audiences')!.function);
    expect(audiences.Properties.Environment.Variables).toMatchObject({
      QUEUE_URL: { Ref: idOf(stack, stack.queues.get('braze-track-bulk')!.queue) },
      LYTICS_INBOUND_SECRET_ID: { Ref: idOf(stack, stack.secrets.inboundSecretFor('lytics')) },
      BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com',
    });
    const usersDelivery = functionResource(template, stack, stack.queues.get('lytics-users')!.consumer.function);
    expect(usersDelivery.Properties.Environment.Variables).toMatchObject({ LYTICS_SECRET_ID: { Ref: idOf(stack, stack.secrets.secretFor('lytics')) } });
  });

  it('follow configured Lytics and Braze settings', () => {
    const { stack, template } = synthStack(fullConfig());
    const job = functionResource(template, stack, stack.jobs.get('lytics-csv-import')!.function.function);
    const audiences = functionResource(template, stack, stack.ingressFunctions.get('lytics-audiences')!.function);

    expect(job.Properties.Environment.Variables).toMatchObject({
      LYTICS_BULK_API_URL: 'https://bulk.eu.lytics.io',
      LYTICS_USERS_STREAM: 'braze_users_eu',
      LYTICS_CSV_ROWS_PER_REQUEST: '20000',
    });
    expect(audiences.Properties.Environment.Variables).toMatchObject({
      BRAZE_REST_ENDPOINT: 'https://rest.fra-01.braze.eu',
      BRAZE_MAX_OBJECTS_PER_REQUEST: '50',
    });
  });

  it('pass an imported outbound secret by its ARN to the functions that call the partner', () => {
    const full = synthStack(fullConfig());
    const drain = functionResource(full.template, full.stack, full.stack.queues.get('seen-receivers')!.consumer.function);
    const callback = functionResource(full.template, full.stack, full.stack.ingressFunctions.get('seen-callback')!.function);

    expect(drain.Properties.Environment.Variables.SEEN_SECRET_ID).toBe(importedSeenSecretArn);
    expect(callback.Properties.Environment.Variables).not.toHaveProperty('SEEN_SECRET_ID');
    full.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['secretsmanager:GetSecretValue']), Resource: importedSeenSecretArn })]),
      },
    });
    // Imported, not created; the inbound secret of SEEN is still created.
    expect(JSON.stringify(full.template.findResources('AWS::SecretsManager::Secret'))).not.toContain('"BridgeFull/seen"');
    full.template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'BridgeFull/seen/inbound' });
  });

  it('pass an imported inbound secret by its ARN to the ingress functions of its partner', () => {
    const full = synthStack(fullConfig());

    for (const flow of ingressFlows.filter((f) => f.source === 'lytics')) {
      const ingress = functionResource(full.template, full.stack, full.stack.ingressFunctions.get(flow.id)!.function);
      expect(ingress.Properties.Environment.Variables.LYTICS_INBOUND_SECRET_ID).toBe(importedLyticsInboundSecretArn);
    }
    full.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['secretsmanager:GetSecretValue']), Resource: importedLyticsInboundSecretArn }),
        ]),
      },
    });
    expect(JSON.stringify(full.template.findResources('AWS::SecretsManager::Secret'))).not.toContain('"BridgeFull/lytics/inbound"');
    full.template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'BridgeFull/lytics' });
  });
});

describe.each(configurations)('secrets (%s configuration)', (_name, configOf) => {
  const config = configOf();
  const { stack, template } = synthStack(config);
  const { plan } = stack;
  const secrets = template.findResources('AWS::SecretsManager::Secret') as Record<string, Resource>;
  const byName = new Map(Object.values(secrets).map((secret) => [secret.Properties.Name as string, secret.Properties]));
  const imported = (arn: string | undefined) => arn !== undefined;

  it('are an outbound secret per deployed owner, created as an empty JSON object to fill, unless imported', () => {
    for (const owner of plan.owners) {
      const properties = byName.get(`${config.stackName}/${owner}`);
      if (imported(partnerDeployment(config, owner)?.secretArn)) {
        expect(properties).toBeUndefined();
        continue;
      }
      expect(properties).toMatchObject({ SecretString: '{}' });
      expect(properties).not.toHaveProperty('GenerateSecretString');
    }
  });

  it('are an inbound secret with a generated inbound_token for each owner of a deployed flow only, unless imported', () => {
    const callers = new Set(plan.flows.map((flow) => flow.source));
    for (const owner of plan.owners) {
      const properties = byName.get(`${config.stackName}/${owner}/inbound`);
      if (!callers.has(owner) || imported(partnerDeployment(config, owner)?.inboundSecretArn)) {
        expect(properties).toBeUndefined();
        continue;
      }
      expect(properties).toMatchObject({
        GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'inbound_token', ExcludePunctuation: true, PasswordLength: 40 },
      });
    }
    expect(byName.has(`${config.stackName}/braze/inbound`)).toBe(false);
  });

  it('are nothing else', () => {
    const expected =
      plan.owners.filter((owner) => !imported(partnerDeployment(config, owner)?.secretArn)).length +
      [...new Set(plan.flows.map((flow) => flow.source))].filter((owner) => !imported(partnerDeployment(config, owner)?.inboundSecretArn)).length;
    expect(Object.keys(secrets)).toHaveLength(expected);
  });
});

describe.each(configurations)('least privilege (%s configuration)', (_name, configOf) => {
  const { stack, template } = synthStack(configOf());
  const { plan } = stack;
  const secretOf = (owner: string) => stack.resolve(stack.secrets.secretFor(owner).secretArn);
  const inboundSecretOf = (owner: string) => stack.resolve(stack.secrets.inboundSecretFor(owner).secretArn);
  /** Owners with an inbound secret: those with a deployed flow. */
  const inboundOwners = [...new Set(plan.flows.map((f) => f.source))];
  const allSecrets = () => [...plan.owners.map(secretOf), ...inboundOwners.map(inboundSecretOf)].map((arn) => JSON.stringify(arn));
  const secretResourcesOf = (role: Parameters<typeof idOf>[1]) =>
    statementsOf(template, idOf(stack, role))
      .map((s) => JSON.stringify(s.Resource))
      .filter((resource) => allSecrets().includes(resource));
  const notificationsRoleId = stack.imports ? idOf(stack, stack.imports.notificationsHandlerRole) : undefined;

  it('uses no managed policies (except on the CDK deploy-time S3 notifications handler) and no wildcard resources', () => {
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role')) as [string, Resource][]) {
      if (id === notificationsRoleId) {
        expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toMatch(
          /^\[\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole"\]\]\}\]$/,
        );
      } else {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    }
    // Step Functions logging needs the CloudWatch Logs delivery actions, which take no resource ARN:
    // on a scheduled job's state machine role, and only those.
    const logDelivery = [
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups',
      'logs:DescribeResourcePolicies',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:UpdateLogDelivery',
    ];
    const stateMachineRoles = [...stack.scheduledJobs.values()].map((job) => idOf(stack, job.stateMachine.role));
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        if (statement.Resource === '*' && stateMachineRoles.includes(policy.Properties.Roles[0].Ref)) {
          expect(policy.Properties.Roles).toHaveLength(1);
          expect(actions([statement])).toEqual(logDelivery);
          continue;
        }
        expect(JSON.stringify(statement.Resource)).not.toContain('"*"');
      }
    }
  });

  it('lets the S3 notifications handler write the notification configuration of the imports bucket only', () => {
    if (!stack.imports) {
      expect(plan.jobs).toEqual([]);
      return;
    }
    const statements = statementsOf(template, notificationsRoleId!);

    expect(statements).toEqual([
      { Action: 's3:PutBucketNotification', Effect: 'Allow', Resource: { 'Fn::GetAtt': [idOf(stack, stack.imports.bucket), 'Arn'] } },
    ]);
  });

  it('lets each ingress write its logs, send to its queue and read its owner inbound secret, nothing more', () => {
    for (const flow of plan.flows) {
      const ingress = stack.ingressFunctions.get(flow.id)!;
      const statements = statementsOf(template, idOf(stack, ingress.role));

      const fed = [flow.queue, ...(flow.alsoFeeds ?? [])];
      const secrets = flow.auth.includes('signature') ? 2 : 1;
      expect(actions(statements)).toEqual(
        [
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          ...Array.from({ length: secrets }, () => ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']).flat(),
          ...fed.flatMap(() => ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']),
        ].sort(),
      );
      // Its own queue and lanes, nothing else.
      const sqs = statements.filter((s) => [s.Action].flat().includes('sqs:SendMessage')).map((s) => s.Resource);
      expect(sqs).toEqual(fed.map((id) => ({ 'Fn::GetAtt': [idOf(stack, stack.queues.get(id)!.queue), 'Arn'] })));
      const secret = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue')).map((s) => s.Resource);
      expect(secret).toContainEqual(inboundSecretOf(flow.source));
      if (secrets === 2) expect(secret).toContainEqual(secretOf(flow.source));
    }
  });

  it('never lets an ingress read outbound credentials, nor a consumer or job an inbound token', () => {
    expect(plan.flows.length + plan.queues.length).toBeGreaterThan(0);
    const outbound = plan.owners.map((owner) => JSON.stringify(secretOf(owner)));
    const inbound = inboundOwners.map((owner) => JSON.stringify(inboundSecretOf(owner)));
    expect(inbound.every((arn) => !outbound.includes(arn))).toBe(true);

    for (const flow of plan.flows.filter((f) => !f.auth.includes('signature'))) {
      const readable = secretResourcesOf(stack.ingressFunctions.get(flow.id)!.role);
      expect(readable).toEqual([JSON.stringify(inboundSecretOf(flow.source))]);
      for (const arn of outbound) expect(readable).not.toContain(arn);
    }
    const callers = [...plan.queues.map((q) => stack.queues.get(q.id)!.consumer.role), ...plan.jobs.map((j) => stack.jobs.get(j.id)!.function.role)];
    for (const role of callers) {
      const readable = secretResourcesOf(role);
      expect(readable).toHaveLength(1);
      for (const arn of inbound) expect(readable).not.toContain(arn);
    }
    for (const job of plan.scheduledJobs) {
      const readable = secretResourcesOf(stack.scheduledJobs.get(job.id)!.function.role);
      expect(readable.sort()).toEqual([job.destination, ...(job.alsoReads ?? [])].map((owner) => JSON.stringify(secretOf(owner))).sort());
      for (const arn of inbound) expect(readable).not.toContain(arn);
    }
  });

  it('lets each consumer receive from its queue (and put untried messages back), park in its DLQ and read its owner secret, nothing more', () => {
    for (const definition of plan.queues) {
      const queue = stack.queues.get(definition.id)!;
      const statements = statementsOf(template, idOf(stack, queue.consumer.role));
      const on = (resource: unknown) => actions(statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(resource)));

      expect(on({ 'Fn::GetAtt': [idOf(stack, queue.queue), 'Arn'] })).toEqual(
        ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage'].sort(),
      );
      expect(on({ 'Fn::GetAtt': [idOf(stack, queue.deadLetterQueue), 'Arn'] })).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
      expect(on(secretOf(definition.destination))).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
      // A queue that dedupes may also read and write its ids in the dedupe table, a scheduled drain
      // its call ledger there, nothing else there.
      const usesTable = definition.dedupe !== undefined || definition.drive.kind === 'schedule';
      const dedupe = usesTable ? ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem'] : [];
      if (usesTable) expect(on({ 'Fn::GetAtt': [idOf(stack, stack.dedupe!.table), 'Arn'] })).toEqual(dedupe);
      expect(actions(statements)).toHaveLength(2 + 6 + 3 + 2 + dedupe.length);
    }
  });

  it('lets each job read objects under its own prefix only, park in its DLQ and read its owner secret, nothing more', () => {
    for (const definition of plan.jobs) {
      const job = stack.jobs.get(definition.id)!;
      const statements = statementsOf(template, idOf(stack, job.function.role));
      const on = (resource: unknown) => actions(statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(resource)));
      const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(stack, stack.imports!.bucket), 'Arn'] }, `/${definition.trigger.prefix}*`]] };

      expect(on(objects)).toEqual(['s3:GetObject']);
      expect(on({ 'Fn::GetAtt': [idOf(stack, job.deadLetterQueue), 'Arn'] })).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
      expect(on(secretOf(definition.destination))).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      expect(on({ 'Fn::GetAtt': [idOf(stack, job.function.logGroup), 'Arn'] })).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
      expect(actions(statements)).toHaveLength(1 + 3 + 2 + 2);
    }
  });

  it('lets each scheduled job step write its logs, get and put items of the job state table and read the secrets it reads, nothing more', () => {
    for (const definition of plan.scheduledJobs) {
      const job = stack.scheduledJobs.get(definition.id)!;
      const statements = statementsOf(template, idOf(stack, job.function.role));
      const on = (resource: unknown) => actions(statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(resource)));
      const readers = [definition.destination, ...(definition.alsoReads ?? [])];

      expect(on({ 'Fn::GetAtt': [idOf(stack, stack.jobState!.table), 'Arn'] })).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
      for (const owner of readers) expect(on(secretOf(owner))).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      expect(on({ 'Fn::GetAtt': [idOf(stack, job.function.logGroup), 'Arn'] })).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
      expect(actions(statements)).toHaveLength(2 + 2 * readers.length + 2);
    }
  });

  it('lets no function read another owner secret (a scheduled job: its owner and the partners it also reads)', () => {
    const owned = [
      ...plan.flows.map((f) => ({ owners: [f.source], role: stack.ingressFunctions.get(f.id)!.role })),
      ...plan.queues.map((q) => ({ owners: [q.destination], role: stack.queues.get(q.id)!.consumer.role })),
      ...plan.jobs.map((j) => ({ owners: [j.destination], role: stack.jobs.get(j.id)!.function.role })),
      ...plan.scheduledJobs.map((j) => ({ owners: [j.destination, ...(j.alsoReads ?? [])], role: stack.scheduledJobs.get(j.id)!.function.role })),
    ];
    for (const { owners, role } of owned) {
      const resources = statementsOf(template, idOf(stack, role)).map((s) => JSON.stringify(s.Resource));
      for (const other of plan.owners.filter((o) => !owners.includes(o))) {
        expect(resources).not.toContain(JSON.stringify(secretOf(other)));
        if (inboundOwners.includes(other)) expect(resources).not.toContain(JSON.stringify(inboundSecretOf(other)));
      }
    }
  });

  it('lets each route invoke only its own function', () => {
    for (const flow of plan.flows) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [idOf(stack, stack.ingressFunctions.get(flow.id)!.function), 'Arn'] },
        SourceArn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`/*/*${flow.path}`])] }),
      });
    }
  });

  it('lets only the imports bucket of this account invoke a job', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 's3.amazonaws.com' } })) as Resource[];

    expect(permissions).toHaveLength(plan.jobs.length);
    for (const definition of plan.jobs) {
      expect(permissions).toContainEqual(
        expect.objectContaining({
          Properties: {
            Action: 'lambda:InvokeFunction',
            Principal: 's3.amazonaws.com',
            FunctionName: { 'Fn::GetAtt': [idOf(stack, stack.jobs.get(definition.id)!.function.function), 'Arn'] },
            SourceArn: { 'Fn::GetAtt': [idOf(stack, stack.imports!.bucket), 'Arn'] },
            SourceAccount: expect.anything(),
          },
        }),
      );
    }
  });
});

/**
 * The handler modules are read as text rather than imported: importing them would load middy and
 * the AWS SDK into this suite, which only needs two declarations: the partner list its handler
 * finds its own entry in (`lazyHandler(<list>, build)`, by the BRIDGE_FLOW_ID the stack sets, which
 * is the flow its logs and metrics carry) and that it exports `handler`.
 */
function moduleDeclarations(entry: string): { entries?: string; exportsHandler: boolean } {
  const source = readFileSync(path.join(projectRoot, entry), 'utf8');
  return {
    entries: /export const handler = lazyHandler\((\w+),/.exec(source)?.[1],
    exportsHandler: /export (const|async function|function) handler\b/.test(source),
  };
}

/** The entries of the list a handler module serves, from its partner's catalogue (functions/<partner>/catalogue.ts). */
async function servedEntries(entry: string): Promise<readonly CatalogueEntry[]> {
  const { entries } = moduleDeclarations(entry);
  const lists = (await import(path.join(projectRoot, path.dirname(entry), 'catalogue.ts'))) as Record<string, readonly CatalogueEntry[]>;
  return entries ? (lists[entries] ?? []) : [];
}

describe('catalogue entries', () => {
  it.each(ingressFlows.map((f) => [f.id, f] as const))('ingress %s names a handler module writing metrics under its id', async (_id, flow) => {
    expect(moduleDeclarations(flow.entry).exportsHandler).toBe(true);
    const served = await servedEntries(flow.entry);
    expect(served).toContain(flow);
    expect(entryFor(served, flow.id)).toBe(flow);
    expect(flowOf(flow)).toBe(flow.id);
  });

  it.each(deliveryQueues.map((q) => [q.id, q] as const))('consumer of %s writes metrics under the flow id the alarms use', async (_id, queue) => {
    const sharing = deliveryQueues.filter((other) => other.consumer.entry === queue.consumer.entry);
    expect(moduleDeclarations(queue.consumer.entry).exportsHandler).toBe(true);
    // One module may serve several queues (the Braze lanes): the stack sets BRIDGE_FLOW_ID (see above),
    // lazyHandler finds the queue by it, and the flow ids tell the queues apart.
    const served = await servedEntries(queue.consumer.entry);
    expect(entryFor(served, queue.consumer.flowId)).toBe(queue);
    expect(flowOf(queue)).toBe(queue.consumer.flowId);
    expect(new Set(sharing.map((other) => other.consumer.flowId)).size).toBe(sharing.length);
  });

  it.each(jobs.map((j) => [j.id, j] as const))('job %s names a handler module writing metrics under its flow id', async (_id, job) => {
    expect(moduleDeclarations(job.entry).exportsHandler).toBe(true);
    expect(entryFor(await servedEntries(job.entry), job.flowId)).toBe(job);
    expect(flowOf(job)).toBe(job.flowId);
  });
});
