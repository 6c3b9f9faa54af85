import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { type CatalogueEntry, flowOf, moduleOf } from '../functions/core/catalogue-index';
import type { Config } from '../functions/core/config';
import { createDeps, type Deps } from '../functions/core/deps';
import { createLogger } from '../functions/core/observability';
import { EnvSecretStore } from '../functions/core/secrets';
import type { Emulators } from './emulators';
import { type OnInvoke, reportingInvocations } from './invoke-hook';
import type { MetricCounts } from './metric-counts';
import type { OutboundCalls } from './outbound';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;
interface HandlerModule<E, R> {
  build: (deps: Deps, entry: CatalogueEntry) => LambdaHandler<E, R>;
}

/** A function as Lambda runs it: its catalogue entry (module and flow come from it) and the destination it calls. */
export interface FunctionSpec {
  entry: CatalogueEntry;
  destination: string;
  /** Its environment beyond the shared config (the queue URLs the stack would set). */
  overrides: Partial<Config>;
}

/**
 * Builds the catalogue's handlers as Lambda would, each with its own deps over the emulators: the
 * shared config and secrets, the destination's HTTP client (its calls kept for the console) and
 * metrics counted by flow.
 */
export class HandlerFactory {
  private readonly secrets: EnvSecretStore;

  constructor(
    private readonly config: Config,
    private readonly emulators: Pick<Emulators, 'sqs' | 'dedupe'>,
    private readonly calls: OutboundCalls,
    private readonly counts: MetricCounts,
    private readonly onInvoke?: OnInvoke,
  ) {
    this.secrets = EnvSecretStore.fromConfig(config);
  }

  async build<E, R>(spec: FunctionSpec): Promise<LambdaHandler<E, R>> {
    const loaded = (await import(path.join(projectRoot, moduleOf(spec.entry)))) as HandlerModule<E, R>;
    return reportingInvocations(loaded, this.onInvoke).build(this.deps(spec), spec.entry);
  }

  private deps({ entry, destination, overrides }: FunctionSpec): Deps {
    const flowId = flowOf(entry);
    const config = { ...this.config, ...overrides };
    const logger = createLogger(config, flowId);
    const { sqs, dedupe } = this.emulators;
    const metrics = this.counts.metricsFor(flowId, logger);
    return createDeps(flowId, config, { sqs, secrets: this.secrets, http: this.calls.clientFor(destination), dedupe, logger, metrics });
  }
}
