import * as z from 'zod/mini';
import { ConfigError } from './errors';
import { definedVariables } from './settings';

/**
 * The variables every function reads, whatever its partner, read once at cold start; fails fast
 * naming the variable. A partner's own settings (SEEN_*, LYTICS_*, BRAZE_* ...) are declared in its
 * folder and read from `config.env` with `loadSettings` (core/settings.ts). Secret *values* are never
 * here in AWS: the stack sets `<PARTNER>_SECRET_ID` / `<PARTNER>_INBOUND_SECRET_ID` and the value
 * is fetched from Secrets Manager (see secrets.ts). Locally the SPEC section 5 variables carry them.
 */
const positiveInt = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback);
const optionalText = z.optional(z.string().check(z.minLength(1)));

export const configSchema = z.object({
  /** Log level of the functions' JSON logs: DEBUG, INFO, WARN, ERROR or SILENT (`npm start`: WARN unless set). */
  LOG_LEVEL: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']), 'INFO'),
  /** URL of the SQS queue an ingress function feeds, or a delivery function drains. */
  QUEUE_URL: optionalText,
  /** Dead-letter queue of that queue: where records a destination refuses for good are parked. */
  DLQ_URL: optionalText,
  /** Largest request body an ingress accepts, in bytes (`413` past it). */
  MAX_BODY_BYTES: positiveInt(5_000_000),
  /**
   * Longest wait, in seconds, between a consumer's tries of a message its destination did not take
   * (5xx, 429, a refused key): waits double from the first up to it. 900 in AWS (docs/architecture.md, "Faults");
   * the local runner uses 60 so that delivery resumes within two minutes of a recovery.
   */
  DELIVERY_BACKOFF_MAX_SECONDS: z._default(z.coerce.number().check(z.int(), z.positive(), z.maximum(43_200)), 900),
  /** Locally: the inbound token of every partner (AWS: each partner's inbound secret). */
  INBOUND_TOKEN: optionalText,
});

export type Config = z.infer<typeof configSchema> & {
  /** The whole environment (defined variables only): where partners' settings and secrets are read from. */
  env: Readonly<Record<string, string>>;
};

export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const defined = definedVariables(env);
  const result = z.safeParse(configSchema, defined);
  if (!result.success) {
    const names = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment: ${names.join('; ')}`);
  }
  return { ...result.data, env: defined };
}
