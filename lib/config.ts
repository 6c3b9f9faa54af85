import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { DeliveryQueue, IngressFlow, S3Job } from '../functions/catalogue';
import { parseCampaignConfig } from '../functions/seen/transform';

/**
 * Deployment configuration: which partners are on, where Braze lives, per-partner options and
 * who gets the alarms. Read from `cdk.json` context (`bridge`), or from a JSON file named by the
 * `configFile` context value (`npx cdk deploy -c configFile=config/prod.json`), and validated
 * here so a typo fails `cdk synth` naming the field, not a Lambda at cold start.
 *
 * Nothing secret lives here: secrets are created empty (or imported by ARN) and filled with
 * `aws secretsmanager put-secret-value` (see README).
 */

/** Partners the catalogue knows or will know; Braze is not one of them: it is always deployed. */
export const partnerIds = ['seen', 'movable-ink', 'sendbird', 'lytics', 'odp'] as const;
export type PartnerId = (typeof partnerIds)[number];

/** Retention values CloudWatch Logs accepts. */
const retentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const secretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/,
    'must be the complete ARN of a Secrets Manager secret (ending in its 6-character suffix)',
  );
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });

/** Extra, non-secret environment for a partner's functions; names that look like credentials are refused. */
const settingsSchema = z
  .record(z.string(), z.string())
  .superRefine((settings, ctx) => {
    for (const name of Object.keys(settings)) {
      if (!/^[A-Z][A-Z0-9_]*$/.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'setting names are UPPER_SNAKE_CASE environment variables' });
      } else if (/(TOKEN|KEY|PASSWORD|SECRET)/.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'credentials belong in the partner secret, not in settings' });
      }
    }
  })
  .default({});

const partnerBase = {
  enabled: z.boolean().default(false),
  /** Import an existing secret instead of creating an empty one. */
  secretArn: secretArn.optional(),
  /** The partner's API base URL (defaults to the partner's production URL in the function). */
  apiUrl: httpsUrl.optional(),
  settings: settingsSchema,
};

const seenSchema = z
  .strictObject({
    ...partnerBase,
    apiUrl: httpsUrl.default('https://api.seen.io'),
    /** SEEN's documented limit is 1,000 calls per hour. */
    maxCallsPerHour: z.int().positive().default(1000),
    /** How often the drain runs: an EventBridge rate, so whole minutes. */
    drainIntervalSeconds: z
      .int()
      .min(60)
      .max(3600)
      .refine((s) => s % 60 === 0, 'must be a multiple of 60 (an EventBridge rate is in whole minutes)')
      .default(60),
    maxReceiversPerCall: z.int().positive().default(100),
    /** Per campaign_slug, which callback fields become which Braze attributes (becomes SEEN_CAMPAIGNS). */
    campaigns: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((seen, ctx) => {
    const runsPerHour = Math.ceil(3600 / seen.drainIntervalSeconds) + 2;
    if (Math.floor(seen.maxCallsPerHour / runsPerHour) < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxCallsPerHour'],
        message: `leaves no call per drain run at drainIntervalSeconds=${seen.drainIntervalSeconds}; raise it or the interval`,
      });
    }
    if (seen.campaigns) {
      try {
        parseCampaignConfig(JSON.stringify(seen.campaigns));
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['campaigns'], message: error instanceof Error ? error.message : 'invalid campaigns' });
      }
    }
  });

/** Options for the partners whose flows are still to come; names follow SPEC section 2. */
const sendbirdSchema = z.strictObject({
  ...partnerBase,
  /** Braze custom event name for notification status callbacks. */
  statusEventName: z.string().min(1).default('sendbird_notification_status'),
});
const movableInkSchema = z.strictObject({
  ...partnerBase,
  /** Forward events only for users with an external id. */
  knownUsersOnly: z.boolean().default(false),
});
/** Lytics stream names, as functions/core/config.ts accepts them. */
const lyticsStream = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, "_" and "-" (at most 100)');
const lyticsSchema = z.strictObject({
  ...partnerBase,
  /** Collect (JSON) API base: LYTICS_API_URL. */
  apiUrl: httpsUrl.default('https://api.lytics.io'),
  /** Bulk CSV API base (api.lytics.io caps uploads at 10 MB): LYTICS_BULK_API_URL. */
  bulkApiUrl: httpsUrl.default('https://bulk.lytics.io'),
  /** Stream Braze webhook profiles are collected into: LYTICS_USERS_STREAM. */
  usersStream: lyticsStream.default('braze_users'),
  /** Profiles per collect call (the collect API takes up to 10 MB): LYTICS_MAX_EVENTS_PER_REQUEST. */
  maxEventsPerRequest: z.int().positive().max(10_000).default(500),
  /** Stream Braze segment CSV exports are imported into: LYTICS_CSV_STREAM. */
  csvStream: lyticsStream.default('braze_segment_export'),
  /** Rows per bulk CSV request, held in memory one chunk at a time: LYTICS_CSV_ROWS_PER_REQUEST. */
  csvRowsPerRequest: z.int().positive().max(500_000).default(50_000),
});
const odpSchema = z.strictObject({
  ...partnerBase,
  /** Extra Braze field -> ODP field mappings for the segment sync. */
  fieldMappings: z.record(z.string(), z.string()).default({}),
  /** EventBridge schedule expression of the nightly segment sync. */
  segmentSyncSchedule: z.string().default('cron(0 3 * * ? *)'),
});

export const bridgeConfigSchema = z.strictObject({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'letters, digits and hyphens, starting with a letter')
    .default('BrazePartnerBridge'),
  /** Account and region; default: the CLI's (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION). */
  account: z.string().regex(/^\d{12}$/).optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional(),
  braze: z.strictObject({
    /** The REST endpoint of your Braze instance, e.g. https://rest.iad-01.braze.com. */
    restEndpoint: httpsUrl,
    secretArn: secretArn.optional(),
    maxObjectsPerRequest: z.int().min(1).max(75).default(75),
  }),
  partners: z
    .strictObject({
      seen: seenSchema.optional(),
      'movable-ink': movableInkSchema.optional(),
      sendbird: sendbirdSchema.optional(),
      lytics: lyticsSchema.optional(),
      odp: odpSchema.optional(),
    })
    .prefault({}),
  api: z
    .strictObject({
      /** Stage-wide default throttle; each route also has its catalogue throttle. */
      throttle: z
        .strictObject({ rateLimit: z.number().positive().default(200), burstLimit: z.int().positive().default(400) })
        .prefault({}),
      /** Optional custom domain; the certificate must be in the stack's region. */
      domain: z.strictObject({ name: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/), certificateArn: z.string().startsWith('arn:') }).optional(),
    })
    .prefault({}),
  alarms: z
    .strictObject({
      /** Subscribed to the alarm topic (confirm the e-mail AWS sends). */
      email: z.email().optional(),
      /** Alarm when a queue's oldest message is older than this. */
      oldestMessageAgeSeconds: z.int().min(60).default(900),
      /** Per-queue override (e.g. the SEEN queue drains slowly by design). */
      oldestMessageAgeSecondsByQueue: z.record(z.string(), z.int().min(60)).default({}),
    })
    .prefault({}),
  /** The S3 bucket the S3-triggered jobs (catalogue `jobs`) read uploads from; deployed with the first such job. */
  imports: z
    .strictObject({
      /** Uploads are deleted this many days after they land (they hold user data). */
      expireAfterDays: z.int().min(1).max(3650).default(30),
      /** Keep overwritten uploads as noncurrent versions (deleted after expireAfterDays too). */
      versioned: z.boolean().default(false),
      /** S3 server access logs of the imports bucket are kept this long. */
      accessLogsExpireAfterDays: z.int().min(1).max(3650).default(90),
    })
    .prefault({}),
  logs: z
    .strictObject({
      retentionDays: z.literal(retentionDays).default(30),
      level: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    })
    .prefault({}),
});

export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;
export type BridgeConfigInput = z.input<typeof bridgeConfigSchema>;

export class BridgeConfigError extends Error {
  override name = 'BridgeConfigError';
}

export function parseBridgeConfig(input: unknown, source = 'configuration'): BridgeConfig {
  const result = bridgeConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new BridgeConfigError(`invalid ${source}:\n${issues.join('\n')}`);
  }
  return result.data;
}

/** Minimal view of the CDK App's context, so this module does not depend on the App. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

/**
 * `-c configFile=path.json` wins; otherwise the `bridge` object in cdk.json (or `-c bridge='{...}'`).
 */
export function loadBridgeConfig(context: ContextSource, cwd = process.cwd()): BridgeConfig {
  const file = context.tryGetContext('configFile');
  if (typeof file === 'string' && file !== '') {
    const fullPath = path.resolve(cwd, file);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(fullPath, 'utf8'));
    } catch (cause) {
      throw new BridgeConfigError(`cannot read config file ${fullPath}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
    return parseBridgeConfig(parsed, `config file ${file}`);
  }
  const inline = context.tryGetContext('bridge');
  if (inline === undefined) throw new BridgeConfigError('no configuration: set the "bridge" context in cdk.json or pass -c configFile=<file>');
  return parseBridgeConfig(typeof inline === 'string' ? JSON.parse(inline) : inline, 'cdk.json context "bridge"');
}

/** What the stack deploys. */
export interface Catalogue {
  ingressFlows: readonly IngressFlow[];
  deliveryQueues: readonly DeliveryQueue[];
  /** Jobs started by an upload to the imports bucket. */
  jobs: readonly S3Job[];
}

export interface DeploymentPlan {
  flows: IngressFlow[];
  queues: DeliveryQueue[];
  /** Jobs whose owner is enabled; the imports bucket is deployed when there is at least one. */
  jobs: S3Job[];
  /** Owners whose secret is deployed: Braze plus every owner of a deployed flow, queue or job. */
  owners: string[];
}

export function isOwnerEnabled(config: BridgeConfig, owner: string): boolean {
  if (owner === 'braze') return true;
  return config.partners[owner as PartnerId]?.enabled === true;
}

/**
 * Flows whose owner is enabled; the queues they feed (a queue nobody feeds is not deployed); jobs
 * whose owner is enabled; and the secrets those need.
 */
export function planDeployment(config: BridgeConfig, catalogue: Catalogue): DeploymentPlan {
  const flows = catalogue.ingressFlows.filter((flow) => isOwnerEnabled(config, flow.owner));
  const fed = new Set<string>(flows.map((flow) => flow.queue));
  const queues = catalogue.deliveryQueues.filter((queue) => fed.has(queue.id));
  for (const flow of flows) {
    if (!queues.some((queue) => queue.id === flow.queue)) throw new BridgeConfigError(`flow ${flow.id} feeds unknown queue ${flow.queue}`);
  }
  const jobs = catalogue.jobs.filter((job) => isOwnerEnabled(config, job.owner));
  checkJobs(jobs, queues);
  const owners = [...new Set<string>(['braze', ...flows.map((f) => f.owner), ...queues.map((q) => q.owner), ...jobs.map((j) => j.owner)])];
  return { flows, queues, jobs, owners };
}

/**
 * Jobs share one bucket, so their triggers must be told apart: S3 refuses two notifications of the
 * same event whose prefix and suffix filters overlap. Alarm names are `<stack>-<queue or job>-...`,
 * so a job may not reuse a queue id.
 */
function checkJobs(jobs: readonly S3Job[], queues: readonly DeliveryQueue[]): void {
  for (const job of jobs) {
    const { prefix, suffix } = job.trigger;
    if (!/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/.test(prefix)) {
      throw new BridgeConfigError(`job ${job.id}: trigger prefix ${JSON.stringify(prefix)} must be a folder such as "lytics/" (safe characters, ending in "/")`);
    }
    if (suffix !== '' && !/^[A-Za-z0-9!_.*'()-]+$/.test(suffix)) throw new BridgeConfigError(`job ${job.id}: trigger suffix ${JSON.stringify(suffix)} is not a plain file ending`);
    if (queues.some((queue) => queue.id === job.id)) throw new BridgeConfigError(`job ${job.id} has the id of a queue: alarm names would collide`);
  }
  jobs.forEach((a, i) => {
    for (const b of jobs.slice(i + 1)) {
      if (a.id === b.id) throw new BridgeConfigError(`two jobs named ${a.id}`);
      const prefixesOverlap = a.trigger.prefix.startsWith(b.trigger.prefix) || b.trigger.prefix.startsWith(a.trigger.prefix);
      const suffixesOverlap = a.trigger.suffix.endsWith(b.trigger.suffix) || b.trigger.suffix.endsWith(a.trigger.suffix);
      if (prefixesOverlap && suffixesOverlap) {
        throw new BridgeConfigError(`jobs ${a.id} and ${b.id} would both be started by the same uploads (${a.trigger.prefix}*${a.trigger.suffix}, ${b.trigger.prefix}*${b.trigger.suffix})`);
      }
    }
  });
}

/** `movable-ink` -> `MOVABLE_INK`: the prefix of an owner's variables (see functions/core/secrets.ts). */
export function envPrefix(owner: string): string {
  return owner.toUpperCase().replaceAll('-', '_');
}

export function secretIdVariableName(owner: string): string {
  return `${envPrefix(owner)}_SECRET_ID`;
}

/** Lambda allows 4 KB of environment in total; keep room for the fixed variables. */
const MAX_SETTING_BYTES = 2500;

/** Non-secret settings an owner's functions read (names from functions/core/config.ts). */
export function ownerSettings(config: BridgeConfig, owner: string): Record<string, string> {
  if (owner === 'braze') {
    return {
      BRAZE_REST_ENDPOINT: config.braze.restEndpoint,
      BRAZE_MAX_OBJECTS_PER_REQUEST: String(config.braze.maxObjectsPerRequest),
    };
  }
  const prefix = envPrefix(owner);
  const settings: Record<string, string> = {};
  const partner = config.partners[owner as PartnerId];
  if (!partner) return settings;
  if (partner.apiUrl) settings[`${prefix}_API_URL`] = partner.apiUrl;
  switch (owner) {
    case 'seen': {
      const seen = config.partners.seen!;
      settings.SEEN_MAX_CALLS_PER_HOUR = String(seen.maxCallsPerHour);
      settings.SEEN_DRAIN_INTERVAL_SECONDS = String(seen.drainIntervalSeconds);
      settings.SEEN_MAX_RECEIVERS_PER_CALL = String(seen.maxReceiversPerCall);
      if (seen.campaigns) settings.SEEN_CAMPAIGNS = JSON.stringify(seen.campaigns);
      break;
    }
    case 'sendbird':
      settings.SENDBIRD_STATUS_EVENT_NAME = config.partners.sendbird!.statusEventName;
      break;
    case 'movable-ink':
      settings.MOVABLE_INK_KNOWN_USERS_ONLY = String(config.partners['movable-ink']!.knownUsersOnly);
      break;
    case 'lytics': {
      const lytics = config.partners.lytics!;
      settings.LYTICS_BULK_API_URL = lytics.bulkApiUrl;
      settings.LYTICS_USERS_STREAM = lytics.usersStream;
      settings.LYTICS_MAX_EVENTS_PER_REQUEST = String(lytics.maxEventsPerRequest);
      settings.LYTICS_CSV_STREAM = lytics.csvStream;
      settings.LYTICS_CSV_ROWS_PER_REQUEST = String(lytics.csvRowsPerRequest);
      break;
    }
    case 'odp':
      settings.ODP_FIELD_MAPPINGS = JSON.stringify(config.partners.odp!.fieldMappings);
      break;
  }
  Object.assign(settings, partner.settings);
  const size = Object.entries(settings).reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (size > MAX_SETTING_BYTES) {
    throw new BridgeConfigError(`partners.${owner}: settings take ${size} bytes of Lambda environment (at most ${MAX_SETTING_BYTES})`);
  }
  return settings;
}
