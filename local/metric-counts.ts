import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/core/observability';

type Counts = Record<string, number>;

/**
 * The Powertools Metrics of a function run locally, which also counts what is added (metric name ->
 * sum of values) for the console. It is the same class the Lambdas use, with the same options as
 * `createMetrics`, so POWERTOOLS_METRICS_DISABLED still decides whether EMF lines are printed.
 */
class CountingMetrics extends Metrics {
  constructor(
    private readonly counts: Counts,
    flowId: string,
    logger: Logger,
  ) {
    super({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { flow: flowId }, logger });
  }

  override addMetric(...metric: Parameters<Metrics['addMetric']>): this {
    const [name, , value] = metric;
    this.counts[name] = (this.counts[name] ?? 0) + value;
    return super.addMetric(...metric);
  }
}

/** What the handlers counted through `deps.metrics` since this run started, by the `flow` the metrics carry. */
export class MetricCounts {
  private readonly byFlow = new Map<string, Counts>();

  /** Metrics for a function of this flow, counted here (several functions may share a flow). */
  metricsFor(flowId: string, logger: Logger): Metrics {
    const counts = this.byFlow.get(flowId) ?? {};
    this.byFlow.set(flowId, counts);
    return new CountingMetrics(counts, flowId, logger);
  }

  /** EMF metric name -> sum of values (`RecordsAccepted`, `RecordsDelivered` ...) of a flow. */
  of(flowId: string): Readonly<Counts> {
    return { ...this.byFlow.get(flowId) };
  }
}
