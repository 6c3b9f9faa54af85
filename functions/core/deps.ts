import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type * as z from 'zod/mini';
import { awsClientConfig } from './aws-clients';
import { type CatalogueEntry, entryFor } from './catalogue-index';
import { type Clock, systemClock } from './clock';
import { type Config, loadConfig } from './config';
import type { DedupeStore } from './dedupe';
import { ConfigError } from './errors';
import { HttpClient } from './http';
import { createLogger, createMetrics } from './observability';
import { QueueSender } from './queue';
import { createSecretStore, type SecretStore } from './secrets';
import { loadSettings, type SettingsSchema } from './settings';

/**
 * Everything a handler touches outside its own logic. Built once per module in Lambda
 * (from the environment); the local runner and the tests build their own and pass them in.
 */
export interface Deps {
  /** The `flow` of this function (its logs and metrics carry it; one module may serve several queues). */
  flowId: string;
  config: Config;
  secrets: SecretStore;
  sqs: SQSClient;
  queue: QueueSender;
  http: HttpClient;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** What was delivered, for queues that dedupe (the local runner and tests pass one; AWS: from the environment). */
  dedupe?: DedupeStore;
}

export function createDeps(flowId: string, config: Config, overrides: Partial<Deps> = {}): Deps {
  const logger = overrides.logger ?? createLogger(config, flowId);
  const sqs = overrides.sqs ?? new SQSClient(awsClientConfig(config.env));
  const clock = overrides.clock ?? systemClock;
  return {
    flowId,
    config,
    secrets: overrides.secrets ?? createSecretStore(config),
    sqs,
    queue: overrides.queue ?? new QueueSender(sqs),
    clock,
    http:
      overrides.http ??
      new HttpClient({
        clock,
        onAttempt: (info) => logger.info('downstream call', { ...info }),
      }),
    logger,
    metrics: overrides.metrics ?? createMetrics(flowId, logger),
    dedupe: overrides.dedupe,
  };
}

/**
 * The module-level `handler` of every function: built on first use from `process.env`, so that
 * importing a handler module (the local runner, tests) never reads the environment. BRIDGE_FLOW_ID
 * (set by the stack on every function) names the function; its catalogue entry, found in `entries`
 * (the partner's own list, so the bundle holds no other partner), is passed to `build` with the deps.
 * One module may serve several entries (the Braze lanes): each function gets its own.
 */
export function lazyHandler<T extends CatalogueEntry, E, R, C>(entries: readonly T[], build: (deps: Deps, entry: T) => (event: E, context: C) => Promise<R>) {
  let built: ((event: E, context: C) => Promise<R>) | undefined;
  return (event: E, context: C): Promise<R> => {
    if (!built) {
      const flowId = process.env.BRIDGE_FLOW_ID;
      if (!flowId) throw new ConfigError('BRIDGE_FLOW_ID is not set (the stack sets it on every function)');
      built = build(createDeps(flowId, loadConfig(process.env)), entryFor(entries, flowId));
    }
    return built(event, context);
  };
}

export function requireSetting<T extends object, K extends keyof T & string>(settings: T, name: K): NonNullable<T[K]> {
  const value = settings[name];
  if (value === undefined || value === null) throw new ConfigError(`${name} is not set`);
  return value as NonNullable<T[K]>;
}

/** A partner's settings (functions/<partner>/settings.ts) read from the function's environment. */
export function settingsOf<S extends SettingsSchema>(deps: Pick<Deps, 'config'>, schema: S): z.infer<S> {
  return loadSettings(schema, deps.config.env);
}
