import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Config } from './config';

export const SERVICE_NAME = 'braze-partner-bridge';
export const METRICS_NAMESPACE = 'BrazePartnerBridge';

/** Metric names shared by the functions, the dashboard and the alarms (lib/). */
export const MetricName = {
  RecordsAccepted: 'RecordsAccepted',
  RecordsRejected: 'RecordsRejected',
  RecordsDelivered: 'RecordsDelivered',
  RecordsParked: 'RecordsParked',
  DeliveryFailures: 'DeliveryFailures',
  DownstreamCalls: 'DownstreamCalls',
  DownstreamThrottled: 'DownstreamThrottled',
  /** Records in one downstream call (Braze: objects per /users/track call). */
  RecordsPerCall: 'RecordsPerCall',
  /** Every request an ingress refused (any 4xx); the three below count the 401s, 400s and 413s among them. */
  RequestsRefused: 'RequestsRefused',
  /** Refused for missing or wrong credentials (401): a spike alarms (a sender with an old token, or someone guessing). */
  RequestsUnauthorized: 'RequestsUnauthorized',
  /** Refused as bad JSON, a schema error or past the nesting limit (400). */
  RequestsInvalid: 'RequestsInvalid',
  /** Refused as too big: the body, a queued message or the record limit (413). */
  RequestsTooLarge: 'RequestsTooLarge',
  /**
   * Valid records an ingress did not forward because the destination would have no identifier to
   * file them under (a Currents event with neither an email nor the external id ODP knows): once
   * per flow, and once per `event_type` (a dimension of its own, for the dashboard's breakdown).
   */
  RecordsWithoutIdentifier: 'RecordsWithoutIdentifier',
  DrainRuns: 'DrainRuns',
  IngressErrors: 'IngressErrors',
  /**
   * A destination refused our credentials or endpoint (401, 403, 404 on a fixed endpoint, any 3xx):
   * nothing was parked, the messages wait; emitted by the consumer (its `flow`) with a `destination`.
   */
  DestinationConfigFaults: 'DestinationConfigFaults',
  /** A scheduled sync('s totals, each emitted once per run (with its `flow`): segments synced, users read from the exports, ' +
'profiles sent and rejected, and the run')s length. */
  SyncSegments: 'SyncSegments',
  SyncUsersRead: 'SyncUsersRead',
  SyncProfilesSent: 'SyncProfilesSent',
  SyncProfilesRejected: 'SyncProfilesRejected',
  SyncRunSeconds: 'SyncRunSeconds',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

export { MetricUnit };

/**
 * Structured JSON logs (Powertools) and EMF metrics with a `flow` dimension. Logs carry ids and
 * counts only: callers never pass payloads, emails, names or tokens.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, flowId: string): Logger {
  return new Logger({
    serviceName: SERVICE_NAME,
    logLevel: config.LOG_LEVEL,
    persistentKeys: { flow: flowId },
  });
}

export function createMetrics(flowId: string, logger: Logger): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, defaultDimensions: { flow: flowId }, logger });
}
