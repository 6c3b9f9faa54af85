import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as catalogue from '../functions/catalogue';
import { laneQueueVariable } from '../functions/core/catalogue-types';
import {
  type BridgeConfig,
  BridgeConfigError,
  type Catalogue,
  type DeploymentPlan,
  deployedSettings,
  environmentBytes,
  MAX_SETTING_BYTES,
  ownerSettings,
  partnerDeployment,
  planDeployment,
  scheduleExpression,
} from './config';
import { BridgeFunction, type BridgeFunctionProps, type CodeSource } from './constructs/bridge-function';
import { DeliveryQueue } from './constructs/delivery-queue';
import { ExpiringTable } from './constructs/expiring-table';
import { ImportJob } from './constructs/import-job';
import { ImportsBucket } from './constructs/imports-bucket';
import { IngressApi } from './constructs/ingress-api';
import { Monitoring } from './constructs/monitoring';
import { OwnerSecrets } from './constructs/owner-secrets';
import { ScheduledJob } from './constructs/scheduled-job';
import { applyNagSuppressions } from './nag';

/**
 * Ingress functions: API Gateway gives up on an integration after 30 s, so an ingress must
 * answer (202, or a 5xx the sender retries) before that. 512 MB: a Lytics backfill body of a few
 * MB is parsed, validated and sent as SQS batches within a few seconds at this CPU share.
 */
export const INGRESS_TIMEOUT_SECONDS = 25;
export const INGRESS_MEMORY_MB = 512;

export interface BridgeStackProps extends StackProps {
  config: BridgeConfig;
  /** Flows, queues and jobs to deploy; the project's catalogue unless a test passes its own. */
  catalogue?: Catalogue;
  /** Directory holding package-lock.json and the handler modules the catalogue names. */
  projectRoot?: string;
  /** Local esbuild by default; tests may pass prebuilt code to skip bundling. */
  codeSource?: CodeSource;
}

/** `lytics-csv-import` -> `lyticscsvimport`: catalogue ids in output names. */
const outputKey = (id: string): string => id.replace(/[^A-Za-z0-9]/g, '');

/**
 * The whole bridge for one deployment: every enabled catalogue flow becomes an API route and an
 * ingress function; every queue such a flow feeds becomes a queue, its DLQ and its consumer;
 * every enabled upload job becomes a function started by uploads to the (one) imports bucket, with
 * its DLQ; every enabled scheduled job becomes a step function looped by a Step Functions state
 * machine that a schedule starts, with its DLQ and the (one) job state table; every owner involved
 * gets a secret; monitoring covers all of it. No flow is named here.
 */
export class BridgeStack extends Stack {
  /** What the configuration enabled out of the catalogue. */
  readonly plan: DeploymentPlan;
  readonly api: IngressApi;
  readonly queues: Map<string, DeliveryQueue>;
  readonly ingressFunctions: Map<string, BridgeFunction>;
  /** Upload (S3) jobs. */
  readonly jobs: Map<string, ImportJob>;
  /** Deployed when at least one upload job is. */
  readonly imports?: ImportsBucket;
  /** Jobs started by a schedule, run as a loop of steps. */
  readonly scheduledJobs: Map<string, ScheduledJob>;
  /** Deployed when at least one scheduled job is: where their runs save their progress. */
  readonly jobState?: ExpiringTable;
  readonly secrets: OwnerSecrets;
  /** Deployed when a deployed queue dedupes on an id. */
  readonly dedupe?: ExpiringTable;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: BridgeStackProps) {
    super(scope, id, { description: 'braze-partner-bridge: Braze <-> partner flows (API, queues, functions, monitoring)', ...props });
    const { config } = props;
    const source: Catalogue = props.catalogue ?? catalogue;
    const plan = planDeployment(config, source);
    this.plan = plan;

    const functionDefaults: Pick<BridgeFunctionProps, 'logLevel' | 'logRetentionDays' | 'projectRoot' | 'codeSource'> = {
      logLevel: config.logs.level,
      logRetentionDays: config.logs.retentionDays,
      projectRoot: props.projectRoot ?? process.cwd(),
      codeSource: props.codeSource ?? { kind: 'esbuild' },
    };
    /** The settings of the partners named: a function's own partner's and its destination's. */
    const settingsFor = (...owners: string[]) => {
      const settings = Object.assign({}, ...[...new Set(owners)].map((owner) => ownerSettings(config, owner))) as Record<string, string>;
      const size = environmentBytes(settings);
      if (size > MAX_SETTING_BYTES) {
        throw new BridgeConfigError(
          `settings of ${[...new Set(owners)].join(' + ')} take ${size} bytes of one function's environment (at most ${MAX_SETTING_BYTES})`,
        );
      }
      return settings;
    };

    this.secrets = new OwnerSecrets(this, 'Secrets', {
      namePrefix: config.stackName,
      owners: plan.owners.map((owner) => {
        const deployment = partnerDeployment(config, owner);
        // A partner gets an inbound token when one of its deployed flows receives requests.
        const inbound = plan.flows.some((flow) => flow.source === owner);
        return { id: owner, inbound, importedArn: deployment?.secretArn, importedInboundArn: deployment?.inboundSecretArn };
      }),
    });

    // One table for every queue that dedupes on an id, and for the call ledger of a scheduled drain
    // (SEEN's rolling hour), deployed only when one of them is.
    this.dedupe = plan.queues.some((queue) => queue.dedupe || queue.drive.kind === 'schedule') ? new ExpiringTable(this, 'Dedupe') : undefined;

    this.queues = new Map();
    const queueScope = new Construct(this, 'Delivery');
    for (const definition of plan.queues) {
      this.queues.set(
        definition.id,
        new DeliveryQueue(queueScope, definition.id, {
          definition,
          settings: settingsFor(definition.destination),
          deployedSettings: deployedSettings(config, definition.destination),
          dedupeTable: this.dedupe?.table,
          secrets: this.secrets,
          functionDefaults,
        }),
      );
    }

    this.ingressFunctions = new Map();
    const ingressScope = new Construct(this, 'Ingress');
    for (const flow of plan.flows) {
      const queue = this.queues.get(flow.queue)!;
      const ingress = new BridgeFunction(ingressScope, flow.id, {
        ...functionDefaults,
        entry: flow.entry,
        description: `${flow.id}: ${flow.method} ${flow.path}`,
        timeoutSeconds: INGRESS_TIMEOUT_SECONDS,
        memoryMb: INGRESS_MEMORY_MB,
        flowId: flow.id,
        environment: {
          ...settingsFor(flow.source, queue.definition.destination),
          QUEUE_URL: queue.queue.queueUrl,
        },
      });
      queue.queue.grantSendMessages(ingress.function);
      // A queue's consumer is updated before the functions that feed it: it reads every body they
      // may send (a gzipped one: functions/core/message-body.ts), so none reaches an older consumer.
      ingress.function.node.addDependency(queue.consumer.function);
      for (const lane of flow.alsoFeeds ?? []) {
        const other = this.queues.get(lane)!;
        other.queue.grantSendMessages(ingress.function);
        ingress.function.node.addDependency(other.consumer.function);
        ingress.function.addEnvironment(laneQueueVariable(lane), other.queue.queueUrl);
      }
      // The inbound token only; the outbound credentials too where the route accepts a signature
      // keyed with them (the partner signs with its API token).
      const grants = { ...this.secrets.grantInboundRead(flow.source, ingress.function) };
      if (flow.auth.includes('signature')) Object.assign(grants, this.secrets.grantRead(flow.source, ingress.function));
      for (const [name, value] of Object.entries(grants)) ingress.function.addEnvironment(name, value);
      this.ingressFunctions.set(flow.id, ingress);
    }

    this.api = new IngressApi(this, 'Api', {
      routes: plan.flows.map((flow) => ({ flow, handler: this.ingressFunctions.get(flow.id)!.function })),
      defaultThrottle: config.api.throttle,
      domain: config.api.domain,
      logRetentionDays: config.logs.retentionDays,
    });
    for (const flow of plan.flows) {
      new CfnOutput(this, `Url${outputKey(flow.id)}`, {
        value: `${this.api.baseUrl}${flow.path}`,
        description: `${flow.id}: ${flow.description}`,
      });
    }

    this.jobs = new Map();
    if (plan.jobs.length > 0) {
      this.imports = new ImportsBucket(this, 'Imports', config.imports);
      const bucket = this.imports.bucket;
      new CfnOutput(this, 'ImportsBucketName', { value: bucket.bucketName, description: 'Bucket the import jobs read uploads from' });
      const jobScope = new Construct(this, 'Jobs');
      for (const definition of plan.jobs) {
        const job = new ImportJob(jobScope, definition.id, {
          definition,
          bucket,
          settings: ownerSettings(config, definition.destination),
          secrets: this.secrets,
          functionDefaults,
        });
        this.jobs.set(definition.id, job);
        const { prefix, suffix } = definition.trigger;
        new CfnOutput(this, `ImportPrefix${outputKey(definition.id)}`, {
          value: `s3://${bucket.bucketName}/${prefix}`,
          description: `${definition.id}: uploading a *${suffix} under this prefix starts it (aws s3 cp file${suffix} s3://<bucket>/${prefix}file${suffix})`,
        });
      }
    }

    this.scheduledJobs = new Map();
    if (plan.scheduledJobs.length > 0) {
      this.jobState = new ExpiringTable(this, 'JobState');
      const scheduledScope = new Construct(this, 'ScheduledJobs');
      for (const definition of plan.scheduledJobs) {
        this.scheduledJobs.set(
          definition.id,
          new ScheduledJob(scheduledScope, definition.id, {
            definition,
            schedule: scheduleExpression(config, definition),
            // Its own partner's settings and those of every partner it also reads (their endpoints ...).
            settings: settingsFor(definition.destination, ...(definition.alsoReads ?? [])),
            secrets: this.secrets,
            stateTable: this.jobState.table,
            functionDefaults,
          }),
        );
      }
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      name: config.stackName,
      api: this.api,
      flows: plan.flows,
      queues: [...this.queues.values()],
      jobs: [...this.jobs.values()],
      scheduledJobs: [...this.scheduledJobs.values()],
      importsBucketName: this.imports?.bucket.bucketName,
      functions: [
        ...plan.flows.map((flow) => ({ label: flow.id, fn: this.ingressFunctions.get(flow.id)!.function })),
        ...[...this.queues.values()].map((queue) => ({ label: queue.definition.consumer.flowId, fn: queue.consumer.function })),
        ...[...this.jobs.values()].map((job) => ({ label: job.definition.flowId, fn: job.function.function })),
        ...[...this.scheduledJobs.values()].map((job) => ({ label: job.definition.flowId, fn: job.function.function })),
      ],
      alarmEmail: config.alarms.email,
      oldestMessageAgeSeconds: config.alarms.oldestMessageAgeSeconds,
      oldestMessageAgeSecondsByQueue: config.alarms.oldestMessageAgeSecondsByQueue,
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${config.stackName}`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });

    applyNagSuppressions(this);
  }

  /** Every function of the bridge (ingress, consumers, upload jobs, scheduled job steps), not CDK's own deploy-time handlers. */
  get bridgeFunctions(): BridgeFunction[] {
    return [
      ...this.ingressFunctions.values(),
      ...[...this.queues.values()].map((q) => q.consumer),
      ...[...this.jobs.values()].map((j) => j.function),
      ...[...this.scheduledJobs.values()].map((j) => j.function),
    ];
  }
}
