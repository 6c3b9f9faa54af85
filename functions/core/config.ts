import * as z from 'zod/mini';
import { ConfigError } from './errors';

/**
 * Environment read once, through one schema, at cold start. Fails fast naming the variable.
 * Secret *values* are never here in AWS: the stack sets `<PARTNER>_SECRET_ID` and the value is
 * fetched from Secrets Manager (see secrets.ts). Locally the SPEC section 5 variables carry them.
 */
const positiveInt = (fallback: number) =>
  z._default(z.coerce.number().check(z.int(), z.positive()), fallback);
/** Seconds; fractions allowed so tests can shrink an hour to a second. */
const positiveSeconds = (fallback: number) => z._default(z.coerce.number().check(z.positive()), fallback);
const optionalUrl = z.optional(z.url());
const optionalText = z.optional(z.string().check(z.minLength(1)));

export const configSchema = z.object({
  LOG_LEVEL: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']), 'INFO'),
  /** URL of the SQS queue an ingress function feeds, or a delivery function drains. */
  QUEUE_URL: optionalText,
  /** Dead-letter queue of that queue: where records Braze refuses for good are parked. */
  DLQ_URL: optionalText,
  MAX_BODY_BYTES: positiveInt(5_000_000),

  BRAZE_REST_ENDPOINT: optionalUrl,
  BRAZE_API_KEY: optionalText,
  BRAZE_SECRET_ID: optionalText,
  BRAZE_MAX_OBJECTS_PER_REQUEST: z._default(z.coerce.number().check(z.int(), z.positive(), z.maximum(75)), 75),
  /** Parallel /users/track calls one delivery invocation may have in flight. */
  BRAZE_DELIVERY_CONCURRENCY: positiveInt(4),

  INBOUND_TOKEN: optionalText,

  SEEN_API_URL: optionalUrl,
  SEEN_API_TOKEN: optionalText,
  SEEN_SECRET_ID: optionalText,
  SEEN_MAX_CALLS_PER_HOUR: positiveInt(1000),
  /** Length of the SEEN budget window; an hour, shortened only by tests. */
  SEEN_BUDGET_WINDOW_SECONDS: positiveSeconds(3600),
  /** How often the SEEN drain runs (EventBridge rate in AWS, a timer locally). */
  SEEN_DRAIN_INTERVAL_SECONDS: positiveSeconds(60),
  SEEN_MAX_RECEIVERS_PER_CALL: positiveInt(100),
  /** JSON: per campaign_slug, which callback fields become which Braze attributes. See seen/config.ts. */
  SEEN_CAMPAIGNS: optionalText,

  /** Lytics API base (collect JSON API), e.g. https://api.lytics.io. */
  LYTICS_API_URL: optionalUrl,
  /** Lytics bulk CSV API base (https://bulk.lytics.io: api.lytics.io caps uploads at 10 MB); LYTICS_API_URL when unset. */
  LYTICS_BULK_API_URL: optionalUrl,
  LYTICS_API_TOKEN: optionalText,
  LYTICS_SECRET_ID: optionalText,
  /** Stream that Braze webhook profiles are collected into (seed 003). */
  LYTICS_USERS_STREAM: z._default(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,100}$/)), 'braze_users'),
  /** Profiles per collect call: the JSON collect API takes arrays up to 10 MB. */
  LYTICS_MAX_EVENTS_PER_REQUEST: positiveInt(500),
  /** Stream that Braze segment CSV exports are imported into. */
  LYTICS_CSV_STREAM: z._default(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,100}$/)), 'braze_segment_export'),
  /** Rows per bulk CSV request: each request is retried on its own, so one failure never resends the whole file. */
  LYTICS_CSV_ROWS_PER_REQUEST: positiveInt(50_000),
});

export type Config = z.infer<typeof configSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const defined = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = z.safeParse(configSchema, defined);
  if (!result.success) {
    const names = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment: ${names.join('; ')}`);
  }
  return result.data;
}
