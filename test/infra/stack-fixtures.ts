import path from 'node:path';
import { App, Aspects, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { partners } from '../../functions/catalogue';
import { BridgeStack } from '../../lib/bridge-stack';
import { type BridgeConfig, type BridgeConfigInput, type Catalogue, parseBridgeConfig } from '../../lib/config';

export const projectRoot = path.resolve(__dirname, '../..');

/** Braze + SEEN with every default: what a first deployment looks like. */
export const minimalInput: BridgeConfigInput = {
  braze: { settings: { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com' } },
  partners: { seen: { enabled: true } },
};

export const importedSeenSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bridge/seen-AbC123';
export const importedLyticsInboundSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bridge/lytics/inbound-DeF456';

/** SEEN campaign mapping of the full configuration (becomes SEEN_CAMPAIGNS, as JSON). */
export const fullSeenCampaigns = { campaigns: { 'spring-24': { attributes: { landing_page_url: 'seen_spring_lp', video_url: 'seen_spring_video' } } } };

/** The partners of the full configuration, each with its settings. */
const fullPartners: NonNullable<BridgeConfigInput['partners']> = {
  seen: {
    enabled: true,
    secretArn: importedSeenSecretArn,
    settings: {
      SEEN_API_URL: 'https://api.staging.seen.io',
      SEEN_MAX_CALLS_PER_HOUR: 600,
      SEEN_DRAIN_INTERVAL_SECONDS: 120,
      SEEN_CAMPAIGNS: fullSeenCampaigns,
    },
  },
  'movable-ink': {
    enabled: true,
    settings: {
      MOVABLE_INK_API_URL: 'https://collector.movableink-dmz.com/behavioral/key-abc',
      MOVABLE_INK_KNOWN_USERS_ONLY: true,
      MOVABLE_INK_MAX_CONCURRENCY: 5,
    },
  },
  sendbird: {
    enabled: true,
    settings: { SENDBIRD_API_URL: 'https://api-0a1b2c.notifications.sendbird.com', SENDBIRD_STATUS_EVENT_NAME: 'notification_status' },
  },
  odp: { enabled: true, settings: { ODP_API_URL: 'https://api.eu1.odp.optimizely.com', ODP_SYNC_SCHEDULE: 'cron(30 3 * * ? *)' } },
  lytics: {
    enabled: true,
    inboundSecretArn: importedLyticsInboundSecretArn,
    settings: { LYTICS_BULK_API_URL: 'https://bulk.eu.lytics.io', LYTICS_USERS_STREAM: 'braze_users_eu', LYTICS_CSV_ROWS_PER_REQUEST: 20000 },
  },
};

/**
 * Every catalogue partner the list above does not name (a new partner folder), switched on with
 * each setting a deployment must set given a stand-in URL, so "all partners on" stays true.
 */
const otherPartners = (): NonNullable<BridgeConfigInput['partners']> =>
  Object.fromEntries(
    partners
      .filter((partner) => partner.id !== 'braze' && !(partner.id in fullPartners))
      .map((partner) => [
        partner.id,
        { enabled: true, settings: Object.fromEntries((partner.settings.deployRequired ?? []).map((name) => [name, `https://${partner.id}.example.com/`])) },
      ]),
  );

/** Every option set: all partners on, imported secrets, custom domain, alarm e-mail, imports, overrides. */
export const fullInput: BridgeConfigInput = {
  stackName: 'BridgeFull',
  account: '123456789012',
  region: 'eu-west-1',
  braze: { settings: { BRAZE_REST_ENDPOINT: 'https://rest.fra-01.braze.eu', BRAZE_MAX_OBJECTS_PER_REQUEST: 50 } },
  partners: { ...fullPartners, ...otherPartners() },
  api: {
    throttle: { rateLimit: 100, burstLimit: 150 },
    domain: { name: 'bridge.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab' },
  },
  alarms: { email: 'oncall@example.com', oldestMessageAgeSeconds: 600, oldestMessageAgeSecondsByQueue: { 'seen-receivers': 7200 } },
  imports: { expireAfterDays: 7, versioned: true, accessLogsExpireAfterDays: 365 },
  logs: { retentionDays: 90, level: 'WARN' },
};

/** Braze + Lytics only, every Lytics default: its flows, its queue, its job and the imports bucket. */
export const lyticsInput: BridgeConfigInput = {
  braze: { settings: { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com' } },
  partners: { lytics: { enabled: true } },
};

/** Braze + ODP only, every ODP default: its flows, its queues and its scheduled job (segment sync), no upload job. */
export const odpInput: BridgeConfigInput = {
  braze: { settings: { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com' } },
  partners: { odp: { enabled: true } },
};

export const minimalConfig = (): BridgeConfig => parseBridgeConfig(minimalInput);
export const fullConfig = (): BridgeConfig => parseBridgeConfig(fullInput);
export const lyticsConfig = (): BridgeConfig => parseBridgeConfig(lyticsInput);
export const odpConfig = (): BridgeConfig => parseBridgeConfig(odpInput);

/** The configurations the suites run against, with what each enables. */
export const configurations = [
  ['minimal (Braze + SEEN)', minimalConfig],
  ['Lytics only', lyticsConfig],
  ['ODP only (a scheduled job, no upload job)', odpConfig],
  ['full', fullConfig],
] as const;

/** Stands in for the bundle: the template is what these tests inspect (synth.test.ts bundles for real). */
const prebuiltCode = { kind: 'prebuilt' as const, code: () => lambda.Code.fromInline('export const handler = async () => ({});') };

export interface SynthOptions {
  catalogue?: Catalogue;
  /** Run the real esbuild bundling instead of inline code. */
  bundle?: boolean;
  nag?: boolean;
}

const synthesised = new Map<string, ReturnType<typeof synthesise>>();

/**
 * The stack and template for a configuration. Synthesised once per test file and configuration
 * (suites only read them); a test catalogue or real bundling always synthesises afresh.
 */
export function synthStack(config: BridgeConfig, options: SynthOptions = {}) {
  if (options.catalogue || options.bundle) return synthesise(config, options);
  const key = JSON.stringify([config, options.nag === true]);
  if (!synthesised.has(key)) synthesised.set(key, synthesise(config, options));
  return synthesised.get(key)!;
}

function synthesise(config: BridgeConfig, options: SynthOptions) {
  const app = new App();
  const stack = new BridgeStack(app, config.stackName, {
    config,
    catalogue: options.catalogue,
    projectRoot,
    codeSource: options.bundle ? { kind: 'esbuild' } : prebuiltCode,
    env: config.account && config.region ? { account: config.account, region: config.region } : undefined,
  });
  if (options.nag) Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  const template = Template.fromStack(stack);
  return { app, stack, template };
}

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };

/** The Lambda functions of the bridge, by logical id: not CDK's deploy-time handlers (S3 notifications). */
export function bridgeFunctionResources(stack: BridgeStack, template: Template): Resource[] {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  return stack.bridgeFunctions.map((fn) => resources[idOf(stack, fn.function)]!);
}

/** Logical id of an L2 construct's CloudFormation resource. */
export function idOf(stack: BridgeStack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** A state machine's definition as Step Functions reads it: the DefinitionString joined, its tokens (ARNs, partition) as placeholders. */
export function stateMachineDefinition(stack: BridgeStack, template: Template, stateMachine: IConstruct): StateMachineDefinition {
  const definition = (template.toJSON().Resources[idOf(stack, stateMachine)] as Resource).Properties.DefinitionString as
    | string
    | { 'Fn::Join': [string, unknown[]] };
  const text = typeof definition === 'string' ? definition : definition['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
  return JSON.parse(text) as StateMachineDefinition;
}

export interface StateMachineDefinition {
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, { Type: string; Next?: string; Default?: string; End?: boolean; [key: string]: any }>;
}
