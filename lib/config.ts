import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import * as zm from 'zod/mini';
import {
  catalogue,
  type DeliveryQueue,
  type IngressFlow,
  type Job,
  type Partner,
  partners,
  type S3Job,
  type ScheduledJob,
  UnknownIdError,
} from '../functions/catalogue';
import { envPrefix, isScheduledJob, isUploadJob } from '../functions/core/catalogue-types';
import { loadSettings, settingNames } from '../functions/core/settings';

/**
 * Deployment configuration: which partners are on, where Braze lives, per-partner options and
 * who gets the alarms. Read from `cdk.json` context (`bridge`), or from a JSON file named by the
 * `configFile` context value (`npx cdk deploy -c configFile=config/prod.json`), and validated
 * here so a typo fails `cdk synth` naming the field, not a Lambda at cold start.
 *
 * Nothing secret lives here: secrets are created empty (or imported by ARN) and filled with
 * `aws secretsmanager put-secret-value` (see docs/deploy.md, Secrets).
 */

/** Retention values CloudWatch Logs accepts. */
const retentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const secretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/,
    'must be the complete ARN of a Secrets Manager secret (ending in its 6-character suffix)',
  );

/** A setting's value in cdk.json: strings, numbers and booleans as they are, objects as JSON. */
const settingValue = z.union([z.string(), z.number(), z.boolean(), z.record(z.string(), z.unknown()), z.array(z.unknown())]);
/** A setting's value as its environment variable holds it: objects as JSON, the rest as text. */
const settingText = (value: unknown): string => (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));

/**
 * A partner's section: `enabled`, secrets to import instead of creating, and `settings` under the
 * very names its functions read (SEEN_MAX_CALLS_PER_HOUR ...), checked against the partner's own
 * settings schema (functions/<partner>/settings.ts): an unknown name, a credential or a bad value
 * fails `cdk synth` naming it. Deployed URLs must be https.
 */
function partnerSchema(partner: Partner) {
  const names = new Set(settingNames(partner.settings.schema));
  const base = {
    /** Import an existing outbound-credentials secret instead of creating an empty one. */
    secretArn: secretArn.optional(),
    /** Import an existing inbound-token secret instead of creating one with a generated token. */
    inboundSecretArn: secretArn.optional(),
    settings: z
      .record(z.string(), settingValue)
      .default({})
      .superRefine((settings, ctx) => {
        for (const [name, value] of Object.entries(settings)) {
          // A token endpoint's URL (SEEN_OAUTH_TOKEN_URL) is a setting; a token is not.
          if (/(TOKEN(?!_URL$)|_KEY|PASSWORD|SECRET|USERNAME)/.test(name)) {
            ctx.addIssue({ code: 'custom', path: [name], message: 'credentials belong in the partner secret, not in settings' });
          } else if (!names.has(name)) {
            ctx.addIssue({ code: 'custom', path: [name], message: `not a ${partner.id} setting (known: ${[...names].join(', ')})` });
          } else if (/(_URL|_ENDPOINT)$/.test(name) && !/^https:\/\//.test(settingText(value))) {
            ctx.addIssue({ code: 'custom', path: [name], message: 'must be an https:// URL' });
          }
        }
        const deployed = { ...partner.settings.deployDefaults, ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, settingText(v)])) };
        const parsed = zm.safeParse(partner.settings.schema, deployed);
        if (!parsed.success) {
          for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path.map(String), message: issue.message });
        }
      }),
  };
  /** Settings with no usable default must be set where the partner is deployed (e.g. the endpoint Movable Ink issues). */
  const required = (section: { enabled?: boolean; settings: Record<string, unknown> }, ctx: z.RefinementCtx) => {
    if (section.enabled === false) return;
    for (const name of partner.settings.deployRequired ?? []) {
      if (section.settings[name] === undefined && !partner.settings.deployDefaults?.[name]) {
        ctx.addIssue({ code: 'custom', path: ['settings', name], message: 'is required' });
      }
    }
  };
  return partner.alwaysOn
    ? z.strictObject(base).superRefine(required).prefault({})
    : z
        .strictObject({ enabled: z.boolean().default(false), ...base })
        .superRefine(required)
        .optional();
}

const alwaysOn = partners.filter((partner) => partner.alwaysOn);
const optional = partners.filter((partner) => !partner.alwaysOn);

const fixedShape = {
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'letters, digits and hyphens, starting with a letter')
    .default('BrazePartnerBridge'),
  /** Account and region; default: the CLI's (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION). */
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .optional(),
  api: z
    .strictObject({
      /** Stage-wide default throttle; each route also has its catalogue throttle. */
      throttle: z.strictObject({ rateLimit: z.number().positive().default(200), burstLimit: z.int().positive().default(400) }).prefault({}),
      /** Optional custom domain; the certificate must be in the stack's region. */
      domain: z.strictObject({ name: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/), certificateArn: z.string().startsWith('arn:') }).optional(),
    })
    .prefault({}),
  alarms: z
    .strictObject({
      /** Subscribed to the alarm topic (confirm the e-mail AWS sends). */
      email: z.email().optional(),
      /** Alarm when a queue's oldest message is older than this (a queue may declare its own in the catalogue). */
      oldestMessageAgeSeconds: z.int().min(60).default(900),
      /** Per-queue override of both. */
      oldestMessageAgeSecondsByQueue: z.record(z.string(), z.int().min(60)).default({}),
    })
    .prefault({}),
  /** The S3 bucket the S3-triggered jobs (catalogue `uploadJobs`) read uploads from; deployed with the first such job. */
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
};

/**
 * The whole schema: the fixed sections above, one top-level section per always-on partner (Braze:
 * `braze.settings.BRAZE_REST_ENDPOINT` is required) and `partners.<id>` for the others, each off
 * until `enabled: true`. Both come from the catalogue: a new partner's section exists as soon as
 * its folder is listed there.
 */
const bridgeConfigSchema = z.strictObject({
  ...fixedShape,
  ...Object.fromEntries(alwaysOn.map((partner) => [partner.id, partnerSchema(partner)])),
  partners: z.strictObject(Object.fromEntries(optional.map((partner) => [partner.id, partnerSchema(partner)]))).prefault({}),
});

/** One partner's section, as parsed. */
export interface PartnerDeployment {
  enabled: boolean;
  secretArn?: string;
  inboundSecretArn?: string;
  settings: Record<string, unknown>;
}
type SettingInput = string | number | boolean | Record<string, unknown> | unknown[];
interface PartnerDeploymentInput {
  enabled?: boolean;
  secretArn?: string;
  inboundSecretArn?: string;
  settings?: Record<string, SettingInput>;
}

const fixedSchema = z.strictObject(fixedShape);
export type BridgeConfig = z.infer<typeof fixedSchema> & { partners: Record<string, PartnerDeployment | undefined> } & Record<string, unknown>;
export type BridgeConfigInput = z.input<typeof fixedSchema> & { partners?: Record<string, PartnerDeploymentInput> } & Record<string, unknown>;

/** A partner's section of a parsed configuration (always-on partners sit at the top level). */
export function partnerDeployment(config: BridgeConfig, id: string): PartnerDeployment | undefined {
  const partner = partners.find((candidate) => candidate.id === id);
  if (partner?.alwaysOn) return { ...(config[id] as Omit<PartnerDeployment, 'enabled'>), enabled: true };
  return config.partners[id];
}

export class BridgeConfigError extends Error {
  override name = 'BridgeConfigError';
}

export function parseBridgeConfig(input: unknown, source = 'configuration'): BridgeConfig {
  const result = bridgeConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new BridgeConfigError(`invalid ${source}:\n${issues.join('\n')}`);
  }
  return result.data as BridgeConfig;
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
  /** Every job: started by an upload to the imports bucket (S3Job) or by a schedule (ScheduledJob). */
  jobs: readonly Job[];
}

export interface DeploymentPlan {
  flows: IngressFlow[];
  queues: DeliveryQueue[];
  /** Upload (S3) jobs whose owner is enabled; the imports bucket is deployed when there is at least one. */
  jobs: S3Job[];
  /**
   * Scheduled jobs whose owner is enabled (every partner they also read must be deployed too); the
   * job state table is deployed when there is at least one.
   */
  scheduledJobs: ScheduledJob[];
  /** Owners whose secret is deployed: Braze plus every owner of a deployed flow, queue or job, and every partner a scheduled job also reads. */
  owners: string[];
}

export function isOwnerEnabled(config: BridgeConfig, owner: string): boolean {
  return partnerDeployment(config, owner)?.enabled === true;
}

/**
 * Flows whose owner is enabled; the queues they feed (a queue nobody feeds is not deployed); jobs
 * whose owner is enabled (a scheduled job also needs every partner it reads: an always-on one is,
 * another must be enabled too); and the partners whose secrets those need. A scheduled job's
 * schedule expression is checked here, so a bad one fails `cdk synth` naming its setting.
 */
export function planDeployment(config: BridgeConfig, catalogue: Catalogue): DeploymentPlan {
  const flows = catalogue.ingressFlows.filter((flow) => isOwnerEnabled(config, flow.source));
  const fed = new Set<string>(flows.flatMap((flow) => [flow.queue, ...(flow.alsoFeeds ?? [])]));
  const queues = catalogue.deliveryQueues.filter((queue) => fed.has(queue.id));
  for (const flow of flows) {
    for (const id of [flow.queue, ...(flow.alsoFeeds ?? [])]) {
      if (!queues.some((queue) => queue.id === id)) throw new BridgeConfigError(`flow ${flow.id} feeds unknown queue ${id}`);
    }
  }
  const enabledJobs = catalogue.jobs.filter((job) => isOwnerEnabled(config, job.destination));
  const jobs = enabledJobs.filter(isUploadJob);
  const scheduledJobs = enabledJobs.filter(isScheduledJob);
  checkJobs(jobs, queues);
  checkJobIds(enabledJobs, queues);
  for (const queue of queues) checkSchedule(config, queue);
  for (const job of scheduledJobs) {
    checkReads(config, job);
    scheduleExpression(config, job);
  }
  const owners = [
    ...new Set<string>([
      ...partners.filter((p) => p.alwaysOn).map((p) => p.id),
      ...flows.map((f) => f.source),
      ...queues.map((q) => q.destination),
      ...jobs.map((j) => j.destination),
      ...scheduledJobs.flatMap((j) => [j.destination, ...(j.alsoReads ?? [])]),
    ]),
  ];
  return { flows, queues, jobs, scheduledJobs, owners };
}

/**
 * A scheduled job reads the settings and outbound secret of every partner in `alsoReads`: each must
 * be deployed with it (an always-on partner always is). One that is not enabled fails the synth,
 * rather than the job silently not being deployed, or running without the settings its deployment
 * must set.
 */
function checkReads(config: BridgeConfig, job: ScheduledJob): void {
  for (const other of job.alsoReads ?? []) {
    if (!partners.some((partner) => partner.id === other)) throw new BridgeConfigError(`job ${job.id} reads unknown partner ${other}`);
    if (!isOwnerEnabled(config, other)) {
      throw new BridgeConfigError(
        `${sectionOf(job.destination)}: job ${job.id} reads ${other}'s settings and secret; ` +
          `enable ${sectionOf(other)} too (or disable ${sectionOf(job.destination)})`,
      );
    }
  }
}

/**
 * The EventBridge schedule expression a scheduled job runs on: its `trigger.scheduleSetting` as
 * deployed (the configuration's value, else the partner's deploy default, else its schema default),
 * held to EventBridge's rules so a bad one fails `cdk synth` naming the setting, not the deploy:
 * `rate(<n> minute|minutes|hour|hours|day|days)` (singular for 1) or `cron(<6 fields>)` with `?`
 * in exactly one of day-of-month and day-of-week. Schedules run in UTC.
 */
export function scheduleExpression(config: BridgeConfig, job: ScheduledJob): string {
  const name = job.trigger.scheduleSetting;
  const at = `${sectionOf(job.destination)}.settings.${name}`;
  const value = deployedSettings(config, job.destination)[name];
  if (value === undefined || value.trim() === '') throw new BridgeConfigError(`${at}: is required (the schedule of job ${job.id})`);
  const problem = scheduleProblem(value);
  if (problem) throw new BridgeConfigError(`${at}: ${JSON.stringify(value)} is not an EventBridge schedule expression (job ${job.id}): ${problem}`);
  // A run may last maxRunHours: a shorter rate would start the next run while one is still going.
  const rate = /^rate\(([1-9]\d*) (minute|hour|day)s?\)$/.exec(value);
  if (rate) {
    const hours = Number(rate[1]) * { minute: 1 / 60, hour: 1, day: 24 }[rate[2] as 'minute' | 'hour' | 'day'];
    if (hours <= job.maxRunHours)
      throw new BridgeConfigError(
        `${at}: ${JSON.stringify(value)} is shorter than a run may last (${job.maxRunHours} hours, job ${job.id}): runs would overlap`,
      );
  }
  return value;
}

/** What is wrong with an EventBridge schedule expression, or undefined. */
export function scheduleProblem(expression: string): string | undefined {
  const rate = /^rate\((.*)\)$/.exec(expression);
  if (rate) {
    const match = /^([1-9]\d*) (minute|hour|day)(s?)$/.exec(rate[1]!);
    if (!match) return 'rate(<value> <unit>) takes a positive whole number and minute(s), hour(s) or day(s), e.g. rate(12 hours)';
    const singular = match[1] === '1';
    if (singular === (match[3] === 's')) return singular ? `write rate(1 ${match[2]}), singular` : `write rate(${match[1]} ${match[2]}s), plural`;
    return undefined;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6)
      return `cron(...) takes 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}, e.g. cron(0 2 * * ? *)`;
    const bad = fields.find((field) => !/^[0-9A-Za-z*?,/#-]+$/.test(field));
    if (bad !== undefined) return `cron field ${JSON.stringify(bad)} holds a character EventBridge does not accept`;
    const [, , dayOfMonth, , dayOfWeek] = fields;
    if ((dayOfMonth === '?') === (dayOfWeek === '?')) return 'cron(...) needs ? in exactly one of day-of-month (3rd field) and day-of-week (5th field)';
    return undefined;
  }
  return 'must be cron(...) or rate(...)';
}

/** Where a partner's section sits in the configuration, for messages: `braze` or `partners.seen`. */
function sectionOf(owner: string): string {
  return partners.find((partner) => partner.id === owner)?.alwaysOn ? owner : `partners.${owner}`;
}

/**
 * A scheduled drive runs on an EventBridge rate (whole minutes), each run shorter than the
 * interval. Any positive budget works: under one call per run, the runs share it through the call
 * ledger (functions/core/delivery/call-ledger.ts).
 */
function checkSchedule(config: BridgeConfig, queue: DeliveryQueue): void {
  const drive = queue.drive;
  if (drive.kind !== 'schedule') return;
  const values = deployedSettings(config, queue.destination);
  const number = (name: string): number => Number(values[name]);
  const interval = number(drive.intervalSetting);
  const at = (name: string) => `${sectionOf(queue.destination)}.settings.${name}`;
  if (!Number.isInteger(interval) || interval < 60 || interval > 3600 || interval % 60 !== 0) {
    throw new BridgeConfigError(`${at(drive.intervalSetting)}: must be a multiple of 60 between 60 and 3600 (an EventBridge rate is in whole minutes)`);
  }
  if (queue.consumer.timeoutSeconds >= interval) {
    throw new BridgeConfigError(`${at(drive.intervalSetting)}: must be longer than the ${queue.id} consumer's timeout (${queue.consumer.timeoutSeconds} s)`);
  }
}

/**
 * Alarm names are `<stack>-<queue or job>-...` and construct ids are job ids: a job of either kind
 * may not reuse a queue id or another job's id.
 */
function checkJobIds(jobs: readonly Job[], queues: readonly DeliveryQueue[]): void {
  jobs.forEach((job, i) => {
    if (queues.some((queue) => queue.id === job.id)) throw new BridgeConfigError(`job ${job.id} has the id of a queue: alarm names would collide`);
    if (jobs.slice(i + 1).some((other) => other.id === job.id)) throw new BridgeConfigError(`two jobs named ${job.id}`);
  });
}

/**
 * Upload jobs share one bucket, so their triggers must be told apart: S3 refuses two notifications
 * of the same event whose prefix and suffix filters overlap.
 */
function checkJobs(jobs: readonly S3Job[], queues: readonly DeliveryQueue[]): void {
  for (const job of jobs) {
    const { prefix, suffix } = job.trigger;
    if (!/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/.test(prefix)) {
      throw new BridgeConfigError(
        `job ${job.id}: trigger prefix ${JSON.stringify(prefix)} must be a folder such as "imports/" (safe characters, ending in "/")`,
      );
    }
    if (suffix !== '' && !/^[A-Za-z0-9!_.*'()-]+$/.test(suffix))
      throw new BridgeConfigError(`job ${job.id}: trigger suffix ${JSON.stringify(suffix)} is not a plain file ending`);
    if (queues.some((queue) => queue.id === job.id)) throw new BridgeConfigError(`job ${job.id} has the id of a queue: alarm names would collide`);
  }
  jobs.forEach((a, i) => {
    for (const b of jobs.slice(i + 1)) {
      if (a.id === b.id) throw new BridgeConfigError(`two jobs named ${a.id}`);
      const prefixesOverlap = a.trigger.prefix.startsWith(b.trigger.prefix) || b.trigger.prefix.startsWith(a.trigger.prefix);
      const suffixesOverlap = a.trigger.suffix.endsWith(b.trigger.suffix) || b.trigger.suffix.endsWith(a.trigger.suffix);
      if (prefixesOverlap && suffixesOverlap) {
        throw new BridgeConfigError(
          `jobs ${a.id} and ${b.id} would both be started by the same uploads (${a.trigger.prefix}*${a.trigger.suffix}, ` +
            `${b.trigger.prefix}*${b.trigger.suffix})`,
        );
      }
    }
  });
}

export function secretIdVariableName(owner: string): string {
  return `${envPrefix(owner)}_SECRET_ID`;
}

export function inboundSecretIdVariableName(owner: string): string {
  return `${envPrefix(owner)}_INBOUND_SECRET_ID`;
}

/** Lambda allows 4 KB of environment in total; keep room for the fixed variables. */
export const MAX_SETTING_BYTES = 2500;

function partnerNamed(owner: string): Partner {
  try {
    return catalogue.partner(owner);
  } catch (error) {
    if (error instanceof UnknownIdError) throw new BridgeConfigError(`unknown partner ${owner} (partners: ${error.known.join(', ')})`);
    throw error;
  }
}

/** What the configuration sets for a partner, over its deploy defaults, as environment text. */
function configuredSettings(config: BridgeConfig, owner: string): Record<string, string> {
  const configured = Object.entries(partnerDeployment(config, owner)?.settings ?? {}).map(([name, value]) => [name, settingText(value)]);
  return { ...partnerNamed(owner).settings.deployDefaults, ...Object.fromEntries(configured) };
}

/** Bytes a set of variables takes of a Lambda environment. */
export function environmentBytes(settings: Readonly<Record<string, string>>): number {
  return Object.entries(settings).reduce((n, [k, v]) => n + k.length + v.length, 0);
}

/**
 * Every setting of a partner as its functions will read it: the configured values over the
 * deploy defaults, over the schema's own defaults (so checks see what the functions will use).
 */
export function deployedSettings(config: BridgeConfig, owner: string): Record<string, string> {
  const configured = configuredSettings(config, owner);
  const parsed = loadSettings(partnerNamed(owner).settings.schema, configured);
  const withDefaults = Object.fromEntries(
    Object.entries(parsed)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, settingText(value)]),
  );
  return { ...withDefaults, ...configured };
}

/**
 * The environment a partner's settings take in its functions: what the configuration sets and the
 * deploy defaults (the functions apply the schema's own defaults to the rest). Only names the
 * partner's schema declares can be set, so a setting can never override QUEUE_URL or LOG_LEVEL.
 */
export function ownerSettings(config: BridgeConfig, owner: string): Record<string, string> {
  const settings = configuredSettings(config, owner);
  const size = environmentBytes(settings);
  if (size > MAX_SETTING_BYTES) {
    throw new BridgeConfigError(`${sectionOf(owner)}: settings take ${size} bytes of Lambda environment (at most ${MAX_SETTING_BYTES})`);
  }
  return settings;
}
