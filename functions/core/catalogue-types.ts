/**
 * The shapes of the catalogue (functions/catalogue.ts). Each partner folder declares its own
 * flows, queues, jobs, settings, secret and sandbox with these types (functions/<partner>/partner.ts);
 * the CDK app (lib/) and the local runner (local/) read only these shapes, never a partner's name.
 */
import type { SandboxAnswer, SandboxRequest } from './sandbox-types';
import type { SettingsSchema } from './settings';

/**
 * How a sender may authenticate on a route. `bearer`: `Authorization: Bearer <inbound token>`;
 * `query`: `?token=<inbound token>`, for senders that can only set a URL; `basic`:
 * `Authorization: Basic` with the inbound token as the password (any user name), for senders that
 * offer only Basic auth (SEEN's callbacks); `signature`: an HMAC of the raw body, checked by the
 * flow's own verifier (it may read the partner's outbound secret).
 */
export type AuthScheme = 'bearer' | 'query' | 'basic' | 'signature';

export interface IngressFlow {
  id: string;
  /** Seed file the flow comes from (shared/seeds). */
  seed: string;
  description: string;
  /** The partner that sends (the folder the flow lives in): its inbound token authenticates the sender. */
  source: string;
  method: 'POST';
  /** API Gateway route path; `{name}` segments are path parameters. */
  path: string;
  /** Handler module, from the project root; it exports `build(deps)` and `handler`. */
  entry: string;
  /** Queue the ingress feeds (a queue id of any partner: into-Braze flows feed a Braze lane). */
  queue: string;
  /**
   * Further queues (lanes) the ingress may put a request on, chosen per request (Sendbird's
   * realtime webhooks skip the batch lane). Their URLs reach it as `QUEUE_URL_<QUEUE ID>`.
   */
  alsoFeeds?: readonly string[];
  /** The schemes this route accepts; any other is refused with 401. */
  auth: readonly AuthScheme[];
  /** API Gateway throttling for the route (requests per second, burst). */
  throttle: { rateLimit: number; burstLimit: number };
  /** What one request may carry (SPEC section 3); the shared ingress middleware enforces it. */
  limits: InputLimits;
  /**
   * What an empty body stands for, once the sender is authenticated (Braze Currents checks a
   * Current's credentials with an empty body: `{events: []}`, a no-op); unset: an empty body is
   * not JSON and is refused with 400.
   */
  emptyBody?: unknown;
}

/**
 * A route's input limits: more records than `maxRecords` is refused with 413, nesting deeper than
 * `maxDepth` and an integer beyond 2^53 with 400, each naming the limit (or the field).
 */
export interface InputLimits {
  /** Most records one request may carry. */
  maxRecords: number;
  /**
   * The field holding the records when the body is an object (`events`, `records`); a body that is
   * an array is its own records, any other body one record.
   */
  recordsField?: string;
  /** Deepest nesting of objects and arrays the body may have: `{}` is 1 deep, `{"events": [{}]}` 3. */
  maxDepth: number;
  /**
   * Where the flow reads numbers as the sender wrote them (from the raw text), so an integer beyond
   * 2^53 is kept exactly there and not refused: `events[].properties` (indices written `[]`).
   */
  exactNumbersIn?: readonly string[];
}

/**
 * A destination's limits, as data: the generic consumer (functions/core/delivery-consumer.ts)
 * keeps every call within them, whichever drive feeds it.
 */
export interface DeliveryLimits {
  /** Most records one downstream call may carry. */
  itemsPerCall: number;
  /** A setting that may lower `itemsPerCall` (never raise it), e.g. BRAZE_MAX_OBJECTS_PER_REQUEST. */
  itemsPerCallSetting?: string;
  /**
   * Records of different groups never share a call (Braze triggers: one campaign per call; SEEN:
   * one campaign per call). The queue message carries its group in its `group` field.
   */
  grouped?: boolean;
  /** Most bytes of records one call may carry (records are packed whole). */
  bytesPerCall?: number;
  /** Most calls one consumer starts per second, across its concurrent calls. */
  callsPerSecond?: number;
  /** Calls one consumer invocation may have in flight. */
  concurrency: number;
}

/** Lambda's SQS event source mapping drives the consumer. */
export interface EventSourceDrive {
  kind: 'event-source';
  batchSize: number;
  maxBatchingWindowSeconds: number;
  /** Caps parallel invocations: with `limits.concurrency`, what keeps us inside the destination's rate. */
  maxConcurrency: number;
  /** A setting that may set `maxConcurrency` per deployment (2 to 1000), e.g. for a destination with no published limit. */
  maxConcurrencySetting?: string;
}

/**
 * A schedule drives the consumer, which receives from its queue itself: for budgets below one
 * call per second. No window of `window` seconds holds more than `calls` calls (a call ledger in
 * the dedupe table that every run shares: delivery/call-ledger.ts), and each run plans at most
 * max(1, callsPerRun(calls, window, interval)) of them: any positive budget works.
 */
export interface ScheduleDrive {
  kind: 'schedule';
  /** Setting holding the interval in seconds (an EventBridge rate in AWS: whole minutes). */
  intervalSetting: string;
  /** Interval the local runner uses when the setting is not set (a laptop wants faster runs). */
  localIntervalSeconds: number;
  /** Settings holding the call budget: at most `calls` calls in any `window` seconds. */
  budget: { callsSetting: string; windowSetting: string };
}

export interface ConsumerFunction {
  entry: string;
  /** The `flow` its logs and EMF metrics carry; the alarms use it. */
  flowId: string;
  timeoutSeconds: number;
  memoryMb: number;
}

export interface DeliveryQueue {
  id: string;
  /** The partner that receives: whose API the consumer calls and whose secret it reads (the folder the queue lives in). */
  destination: string;
  description: string;
  /** `realtime` lanes never wait behind a `bulk` lane's backlog (each lane is its own queue and consumer). */
  lane: 'realtime' | 'bulk';
  /** The destination's rate limit, as documented, and how the limits below keep to it. */
  rateLimit: string;
  limits: DeliveryLimits;
  drive: EventSourceDrive | ScheduleDrive;
  consumer: ConsumerFunction;
  /** Receives before SQS moves a message to the DLQ. */
  maxReceiveCount: number;
  /** Alarm when the oldest message is older than this (default: the deployment's alarms setting). */
  oldestMessageAlarmSeconds?: number;
  /**
   * Records carry an id to dedupe on (an event id): one already delivered within `ttlSeconds` is not
   * sent again. The stack then deploys the dedupe table (DynamoDB, TTL) and grants the consumer.
   */
  dedupe?: { ttlSeconds: number };
}

/** A job started by a file landing in the imports bucket (S3 event notification -> Lambda). */
export interface S3Job {
  id: string;
  seed: string;
  description: string;
  /** The partner that receives: whose API the job calls and whose secret it reads. */
  destination: string;
  entry: string;
  /** The `flow` its logs and metrics carry (BRIDGE_FLOW_ID). */
  flowId: string;
  /** Object keys that start the job: under `prefix`, ending in `suffix`. */
  trigger: { kind: 's3'; prefix: string; suffix: string };
  timeoutSeconds: number;
  memoryMb: number;
  /** Options of its local command (`npm run job -- <id> <file> --stream x`): option name -> the setting it sets. */
  localOptions?: Readonly<Record<string, string>>;
}

/**
 * A job started by a schedule and run as a loop of steps: each invocation of `entry` does what it
 * can before its deadline, saves where it stopped (the job state table) and answers `continue`,
 * `wait` (seconds to wait before the next step, e.g. for an export to be ready) or `done`. In AWS a
 * Step Functions state machine started by an EventBridge schedule invokes the step until `done`
 * (retrying a failed or timed-out step, which resumes from the saved state); locally
 * `npm run <localScript>` runs the same loop once.
 */
export interface ScheduledJob {
  id: string;
  seed: string;
  description: string;
  /** The partner that receives: whose secret and settings the job reads (the folder it lives in). */
  destination: string;
  /** Further partners whose outbound secret and settings the job reads (the ODP sync reads Braze's). */
  alsoReads?: readonly string[];
  /** Step module, from the project root; it exports `build(deps, hooks)` and `handler` ((JobStepEvent) -> JobStepResult). */
  entry: string;
  /** The `flow` its logs and metrics carry (BRIDGE_FLOW_ID). */
  flowId: string;
  /** `scheduleSetting` holds an EventBridge schedule expression (`cron(...)` or `rate(...)`). */
  trigger: { kind: 'schedule'; scheduleSetting: string };
  /** One step's Lambda timeout; the step stops starting work well before it. */
  timeoutSeconds: number;
  memoryMb: number;
  /** A run still going after this long (waits included) is stopped and alarmed; keep it below the schedule's interval. */
  maxRunHours: number;
  /** The npm script that runs one run locally (`sync:odp`). */
  localScript: string;
  /** Settings a local run uses when they are not set (a laptop wants short waits). */
  localDefaults?: Readonly<Record<string, string>>;
}

export type Job = S3Job | ScheduledJob;

export function isScheduledJob(job: Job): job is ScheduledJob {
  return job.trigger.kind === 'schedule';
}

export function isUploadJob(job: Job): job is S3Job {
  return job.trigger.kind === 's3';
}

/** What a scheduled job's step receives: the run it belongs to (AWS: the state machine execution's name). */
export interface JobStepEvent {
  runId: string;
}

/** What a scheduled job's step answers. */
export type JobStepResult =
  | { runId: string; status: 'continue' }
  | { runId: string; status: 'wait'; waitSeconds: number }
  | { runId: string; status: 'done'; summary: Readonly<Record<string, number>> };

/** Running totals a job reports as it goes (rows delivered, requests made). */
export interface JobProgress {
  rows: number;
  requests: number;
}

/** What a job's handler resolves with, per object it processed. */
export interface JobOutcome extends JobProgress {
  bucket: string;
  key: string;
  /** Rows the destination said it rejected. */
  rejected: number;
}

/** Fields of a partner's secret (one JSON secret per partner in AWS). Locally: `<PREFIX>_<FIELD>`. */
export type OutboundSecretField = 'api_key' | 'api_token' | 'api_username' | 'api_password';

interface PartnerSecret {
  /** Partners that call us get an inbound token, in a secret of its own that ingress functions read. */
  inbound: boolean;
  /** Outbound credential fields the consumers and jobs need; never readable by ingress functions. */
  outbound: readonly OutboundSecretField[];
}

interface PartnerSettings {
  /** Every non-secret setting the partner's functions read: env name -> zod (mini) schema with default. */
  schema: SettingsSchema;
  /** Values deployed when the configuration sets none (e.g. the production API URL). */
  deployDefaults?: Readonly<Record<string, string>>;
  /** Settings a deployment must set (no usable default). */
  deployRequired?: readonly string[];
}

export interface PartnerSandbox {
  /** The setting holding the destination's base URL: unset locally means the sandbox stands in. */
  urlSetting: string;
  /** Further URL settings of the same partner (e.g. a bulk API host): set in sandbox mode too, and any set means real mode. */
  otherUrlSettings?: readonly string[];
  /** The answer the real API gives on success; undefined for a path it does not have (404). */
  answer: (request: SandboxRequest) => SandboxAnswer | undefined;
  /** Reads a request body the partner's own way (e.g. counting a large CSV); undefined: JSON. */
  readBody?: (path: string, body: NodeJS.ReadableStream) => Promise<unknown> | undefined;
}

/** The request of a doctor check; `path` (query included) is joined to the URL setting's value. */
export interface DoctorRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What a partner reads in an answer; `undefined` leaves it to the generic reading (core/http.ts classifyAnswer). */
export interface DoctorVerdict {
  result: 'ok' | 'refused' | 'cannot check';
  why: string;
}

interface DoctorCheckBase {
  /** What is checked, in a few words: `POST /users/track, no objects`. */
  name: string;
  /** The setting holding the destination's URL (never printed: a URL may carry a key). */
  urlSetting: string;
  /** The queues whose consumer calls this destination (AWS: their settings are read); default: the partner's queues. */
  queues?: readonly string[];
  /** The vendor's page, OpenAPI document or SDK the call and its answers are taken from. */
  source: string;
}

/**
 * One harmless authenticated call `bridge doctor` makes to a destination (`request`, `read`), or
 * the plain reason there is none (`cannotCheck`).
 */
export type DoctorCheck =
  | (DoctorCheckBase & {
      /** From the settings the consumer reads (an environment) and the partner's outbound credentials (all set). */
      request: (settings: Readonly<Record<string, string | undefined>>, credentials: Readonly<Record<OutboundSecretField, string>>) => DoctorRequest;
      read?: (answer: { status: number; text: string }) => DoctorVerdict | undefined;
    })
  | (DoctorCheckBase & { cannotCheck: string });

/** One call `bridge setup` makes for a partner; `path` (query included) is joined to the URL setting's value. */
interface SetupRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * What one step of a set-up came to: `created`, `exists` (nothing to do: the set-up is
 * idempotent), `manual` (the API cannot do it: `why` says exactly what to create, and where),
 * `failed` (refused or unreachable: `why` says why), `skipped` (not asked for by the settings).
 */
export interface SetupStep {
  item: string;
  result: 'created' | 'exists' | 'manual' | 'failed' | 'skipped';
  why: string;
}

export interface SetupContext {
  /** The settings the partner's consumer reads (an environment). */
  settings: Readonly<Record<string, string | undefined>>;
  credentials: Readonly<Record<OutboundSecretField, string>>;
  /** One call, redirects never followed; rejects (the message says why, never the URL) when nothing answered. */
  call: (request: SetupRequest) => Promise<{ status: number; text: string }>;
  /** Waits between calls, to keep to the destination's rate. */
  wait: (ms: number) => Promise<void>;
}

/**
 * What `bridge setup <partner>` does for a partner: what the flows need to exist at the
 * destination before they can deliver (ODP: the event fields the Currents mapping writes, the
 * external id identifier), created through its API where it allows, said exactly where it does not.
 */
export interface PartnerSetup {
  /** What is set up, in a few words. */
  description: string;
  /** The setting holding the destination's URL (never printed: a URL may carry a key). */
  urlSetting: string;
  /** The queues whose consumer calls this destination (AWS: their settings and secret are read); default: the partner's queues. */
  queues?: readonly string[];
  /** The vendor's page, OpenAPI document or SDK the calls and their answers are taken from. */
  source: string;
  run: (context: SetupContext) => Promise<SetupStep[]>;
}

export interface Partner {
  /** Folder name and id: `seen`, `lytics`, `movable-ink`. Its variables are prefixed `SEEN_`, `MOVABLE_INK_`. */
  id: string;
  description: string;
  /** Deployed whatever the configuration says (Braze); partners are enabled one by one. */
  alwaysOn?: boolean;
  settings: PartnerSettings;
  secret: PartnerSecret;
  /** The recorder that stands in for the partner's API locally; required when it owns a queue or job. */
  sandbox?: PartnerSandbox;
  /** What `bridge doctor` checks of the partner's API with the configured credentials (functions/<partner>/doctor.ts). */
  doctor?: readonly DoctorCheck[];
  /** What `bridge setup <partner>` creates at the destination (functions/<partner>/setup.ts). */
  setup?: PartnerSetup;
  flows: readonly IngressFlow[];
  queues: readonly DeliveryQueue[];
  jobs: readonly Job[];
}

/** `movable-ink` -> `MOVABLE_INK`: the prefix of a partner's variables. */
export function envPrefix(owner: string): string {
  return owner.toUpperCase().replaceAll('-', '_');
}

/** The variable holding the URL of a further queue an ingress feeds: `sendbird-realtime` -> `QUEUE_URL_SENDBIRD_REALTIME`. */
export function laneQueueVariable(queueId: string): string {
  return `QUEUE_URL_${envPrefix(queueId)}`;
}
