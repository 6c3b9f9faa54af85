import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { IngressFlow } from '../../functions/catalogue';
import { METRICS_NAMESPACE, MetricName, SERVICE_NAME } from '../../functions/core/observability';
import type { DeliveryQueue } from './delivery-queue';
import type { ImportJob } from './import-job';
import type { IngressApi } from './ingress-api';
import type { ScheduledJob } from './scheduled-job';

export interface MonitoringProps {
  /** Prefix of the dashboard and alarm names. */
  name: string;
  api: IngressApi;
  flows: readonly IngressFlow[];
  queues: readonly DeliveryQueue[];
  /** S3-triggered jobs. */
  jobs: readonly ImportJob[];
  /** Jobs started by a schedule (state machine + step function). */
  scheduledJobs: readonly ScheduledJob[];
  /** The imports bucket, when jobs are deployed (named on the dashboard). */
  importsBucketName?: string;
  /** Every function, labelled, for the Lambda widgets. */
  functions: readonly { label: string; fn: lambda.IFunction }[];
  alarmEmail?: string;
  oldestMessageAgeSeconds: number;
  oldestMessageAgeSecondsByQueue: Readonly<Record<string, number>>;
}

const FIVE_MINUTES = Duration.minutes(5);
/**
 * 401s of one route in 5 minutes that raise its alarm. A rotation loses none (the previous token is
 * accepted beside the new one), and a stray request or a scanner's probe stays well below; a sender
 * configured with a wrong or revoked token (a Braze webhook fires per user, dozens a minute in a
 * campaign) or someone guessing tokens crosses it within minutes. A quiet sender with a wrong token
 * (a few SEEN callbacks an hour) shows on the dashboard's refusals widget instead.
 */
export const UNAUTHORIZED_ALARM_THRESHOLD = 20;
/** A scheduled job's per-run totals are graphed per hour over a week: one point per run. */
const RUN_TOTALS_PERIOD = Duration.hours(1);

/** An EMF metric the functions write (namespace BrazePartnerBridge, dimensions [service, flow]). */
function flowMetric(metricName: MetricName, flow: string, options: { statistic?: string; label?: string; period?: Duration } = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME, flow },
    statistic: options.statistic ?? 'Sum',
    period: options.period ?? FIVE_MINUTES,
    label: options.label,
  });
}

/**
 * What an operator watches: one dashboard per deployment, and alarms (to one SNS topic, with an
 * optional e-mail subscription) on everything that means records are not getting through:
 * a non-empty DLQ and records newly parked in it, a queue not draining, consumer errors and
 * failed deliveries, a destination refusing our key or endpoint, a spike of 401s on a route, API
 * 5xx, a failed import job run and a parked import, a scheduled job run that failed or did not
 * finish and a scheduled job DLQ holding anything (a failed start or a run to redrive).
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    // CloudWatch can only publish to an encrypted topic through a key whose policy lets it.
    const key = new kms.Key(this, 'TopicKey', {
      description: `${props.name} alarm topic encryption`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: `${props.name} alarms`, masterKey: key, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    this.createAlarms(props);
    this.dashboard = this.createDashboard(props);
  }

  private alarm(props: MonitoringProps, id: string, description: string, options: Omit<cloudwatch.AlarmProps, 'alarmName' | 'alarmDescription'>) {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${props.name}-${id}`,
      alarmDescription: description,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...options,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  private createAlarms(props: MonitoringProps) {
    for (const flow of props.flows) {
      this.alarm(
        props,
        `${flow.id}-unauthorized`,
        `${flow.method} ${flow.path} refused ${UNAUTHORIZED_ALARM_THRESHOLD} or more requests for missing or ` +
          `wrong credentials (401) in 5 minutes: a sender with an old or wrong token (rotated out?), or someone ` +
          `guessing (docs/deploy.md, Secrets)`,
        {
          metric: flowMetric(MetricName.RequestsUnauthorized, flow.id),
          threshold: UNAUTHORIZED_ALARM_THRESHOLD,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
        },
      );
    }
    for (const queue of props.queues) {
      const id = queue.definition.id;
      const consumerFlow = queue.definition.consumer.flowId;
      this.alarm(props, `${id}-dlq-not-empty`, `Records for ${queue.definition.destination} were dead-lettered: inspect, fix, redrive (docs/operations.md)`, {
        metric: queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
      // dlq-not-empty stays in ALARM while anything is parked and never fires again; this one fires
      // for every 5 minutes in which records were newly parked. The DLQ's depth (visible + in flight,
      // so someone reading the DLQ is no new parking) counts the messages SQS moves there after
      // maxReceiveCount, which no metric of ours sees and NumberOfMessagesSent does not count;
      // RecordsParked counts what the consumer parks itself (SendMessage), even in a period in which
      // an operator redrove others out. FILL(visible, REPEAT): a DLQ that stopped reporting (SQS
      // reports only active queues) must not look as if it had just filled.
      this.alarm(
        props,
        `${id}-records-parked`,
        `Records for ${queue.definition.destination} were newly parked in the ${id} DLQ in the last 5 minutes: inspect, fix, redrive (docs/operations.md)`,
        {
          metric: new cloudwatch.MathExpression({
            expression: 'MAX([DIFF(FILL(visible, REPEAT) + FILL(inFlight, 0)), FILL(parked, 0)])',
            usingMetrics: {
              visible: queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' }),
              inFlight: queue.deadLetterQueue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum' }),
              parked: flowMetric(MetricName.RecordsParked, consumerFlow),
            },
            label: `${id} records newly parked`,
            period: FIVE_MINUTES,
          }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
        },
      );
      this.alarm(
        props,
        `${id}-destination-config-fault`,
        `${queue.definition.destination} refuses our key or endpoint (401, 403, 404, a redirect): nothing is parked, ` +
          `messages wait; run \`npx bridge doctor\` (docs/cli.md)`,
        {
          metric: flowMetric(MetricName.DestinationConfigFaults, consumerFlow),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
        },
      );
      const maxAge = props.oldestMessageAgeSecondsByQueue[id] ?? queue.definition.oldestMessageAlarmSeconds ?? props.oldestMessageAgeSeconds;
      this.alarm(props, `${id}-oldest-message`, `The ${id} queue holds a message older than ${maxAge} s: delivery is stuck or slow`, {
        metric: queue.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        threshold: maxAge,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
      this.alarm(props, `${id}-consumer-errors`, `The ${id} consumer failed (Lambda Errors)`, {
        metric: queue.consumer.function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
      this.alarm(props, `${id}-delivery-failures`, `Calls to ${queue.definition.destination} keep failing (DeliveryFailures in 2 of 3 periods of 5 min)`, {
        metric: flowMetric(MetricName.DeliveryFailures, consumerFlow),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      });
    }
    for (const job of props.jobs) {
      const id = job.definition.id;
      this.alarm(props, `${id}-job-errors`, `A ${id} run failed (Lambda Errors): Lambda retries it twice, then parks the upload's event in the job DLQ`, {
        metric: job.function.function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
      this.alarm(props, `${id}-dlq-not-empty`, `An upload for ${id} failed every try and is parked in its DLQ: fix the cause, re-run it (docs/operations.md)`, {
        metric: job.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    for (const job of props.scheduledJobs) {
      const id = job.definition.id;
      const machine = job.stateMachine;
      this.alarm(
        props,
        `${id}-run-failed`,
        `A ${id} run failed (its step kept failing after its retries, or answered an unknown status): see the execution, fix, redrive it (docs/operations.md)`,
        {
          metric: machine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
        },
      );
      this.alarm(props, `${id}-run-unfinished`, `A ${id} run did not finish: stopped after ${job.definition.maxRunHours} h (timed out) or aborted`, {
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(timedOut, 0) + FILL(aborted, 0)',
          usingMetrics: { timedOut: machine.metricTimedOut({ statistic: 'Sum' }), aborted: machine.metricAborted({ statistic: 'Sum' }) },
          label: `${id} runs timed out or aborted`,
          period: FIVE_MINUTES,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
      this.alarm(
        props,
        `${id}-dlq-not-empty`,
        `A ${id} run could not start, or ended failed, timed out or aborted: its event is parked in the job DLQ (docs/operations.md)`,
        {
          metric: job.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
        },
      );
    }
    this.alarm(props, 'api-5xx', 'The API answered 5xx: senders will retry, look at the ingress function logs', {
      metric: props.api.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
  }

  private createDashboard(props: MonitoringProps): cloudwatch.Dashboard {
    const ingress = props.flows.map((flow) => flow.id);
    const consumers = props.queues.map((queue) => ({ queue, flow: queue.definition.consumer.flowId }));
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8) => new cloudwatch.GraphWidget({ title, left, width, height: 6, period: FIVE_MINUTES });
    const perFlow = (names: MetricName[], flows: string[], statistic = 'Sum') =>
      names.flatMap((name) =>
        flows.map((flow) =>
          flowMetric(name, flow, { statistic, label: statistic === 'Sum' ? `${flow} ${name}` : `${flow} ${name} (${statistic.toLowerCase()})` }),
        ),
      );

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.name, defaultInterval: Duration.hours(6) });
    const importUrl = ({ definition }: (typeof props.jobs)[number]) =>
      `\`s3://${props.importsBucketName}/${definition.trigger.prefix}*${definition.trigger.suffix}\` (${definition.id})`;
    const imports = props.importsBucketName ? `\nImports: ${props.jobs.map(importUrl).join(', ')}` : '';
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${props.name}\nIngress at \`${props.api.baseUrl}\` (routes: ${props.flows.map((f) => `\`${f.method} ${f.path}\``).join(', ')})${imports}`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      graph(
        'API requests per route',
        props.flows.map((flow) => props.api.routeMetric(flow, 'Count')),
      ),
      graph(
        'API 4xx per route',
        props.flows.map((flow) => props.api.routeMetric(flow, '4xx')),
      ),
      graph(
        'API 5xx per route',
        props.flows.map((flow) => props.api.routeMetric(flow, '5xx')),
      ),
    );
    dashboard.addWidgets(
      graph('Records accepted per flow', perFlow([MetricName.RecordsAccepted], ingress), 12),
      graph(
        'Records rejected, requests refused, ingress errors',
        perFlow([MetricName.RecordsRejected, MetricName.RequestsRefused, MetricName.IngressErrors], ingress),
        12,
      ),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Records not sent: no identifier the destination knows (per flow; per event type, right)',
        left: perFlow([MetricName.RecordsWithoutIdentifier], ingress),
        right: [
          // The ingress also writes the count per `event_type` (e.g. users.messages.pushnotification.Send), one metric each.
          new cloudwatch.MathExpression({
            expression:
              `SEARCH('{${METRICS_NAMESPACE},event_type,flow,service} MetricName="${MetricName.RecordsWithoutIdentifier}"', ` +
              `'Sum', ${FIVE_MINUTES.toSeconds()})`,
            label: 'per event type',
            period: FIVE_MINUTES,
            usingMetrics: {},
          }),
        ],
        width: 24,
        height: 6,
        period: FIVE_MINUTES,
      }),
    );
    dashboard.addWidgets(
      graph('Requests refused: 401 (credentials) per flow', perFlow([MetricName.RequestsUnauthorized], ingress)),
      graph('Requests refused: 400 (invalid, too deep) per flow', perFlow([MetricName.RequestsInvalid], ingress)),
      graph('Requests refused: 413 (too big, too many records) per flow', perFlow([MetricName.RequestsTooLarge], ingress)),
    );
    const consumerFlows = consumers.map((c) => c.flow);
    const drainFlows = consumers.filter((c) => c.queue.definition.drive.kind === 'schedule').map((c) => c.flow);
    dashboard.addWidgets(
      graph('Records delivered per destination', perFlow([MetricName.RecordsDelivered], consumerFlows), 6),
      graph(
        'Parked records, delivery failures, key or endpoint refused',
        perFlow([MetricName.RecordsParked, MetricName.DeliveryFailures, MetricName.DestinationConfigFaults], consumerFlows),
        6,
      ),
      graph('Downstream calls and throttled calls', perFlow([MetricName.DownstreamCalls, MetricName.DownstreamThrottled], consumerFlows), 6),
      graph(
        'Records per call (avg, max)',
        [...perFlow([MetricName.RecordsPerCall], consumerFlows, 'Average'), ...perFlow([MetricName.RecordsPerCall], consumerFlows, 'Maximum')],
        6,
      ),
    );
    dashboard.addWidgets(
      graph(
        'Queue depth (visible)',
        props.queues.map((q) => q.queue.metricApproximateNumberOfMessagesVisible({ label: q.definition.id, statistic: 'Maximum' })),
      ),
      graph(
        'Oldest message age (s)',
        props.queues.map((q) => q.queue.metricApproximateAgeOfOldestMessage({ label: q.definition.id, statistic: 'Maximum' })),
      ),
      graph(
        'DLQ depth',
        props.queues.map((q) => q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: `${q.definition.id} DLQ`, statistic: 'Maximum' })),
      ),
    );
    dashboard.addWidgets(
      graph(
        'Lambda errors',
        props.functions.map(({ label, fn }) => fn.metricErrors({ label, statistic: 'Sum' })),
      ),
      graph(
        'Lambda throttles',
        props.functions.map(({ label, fn }) => fn.metricThrottles({ label, statistic: 'Sum' })),
      ),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8, height: 6 }),
    );
    if (drainFlows.length > 0) {
      dashboard.addWidgets(graph('Drain runs', perFlow([MetricName.DrainRuns], drainFlows), 8));
    }
    if (props.jobs.length > 0) {
      const jobFlows = props.jobs.map((job) => job.definition.flowId);
      dashboard.addWidgets(
        graph('Import jobs: rows delivered and calls', perFlow([MetricName.RecordsDelivered, MetricName.DownstreamCalls], jobFlows), 6),
        graph('Import jobs: failures and rows rejected', perFlow([MetricName.DeliveryFailures, MetricName.RecordsRejected], jobFlows), 6),
        new cloudwatch.GraphWidget({
          title: 'Import job runs and errors; longest run (ms, right)',
          left: props.jobs.flatMap((job) => [
            job.function.function.metricInvocations({ label: `${job.definition.id} runs`, statistic: 'Sum' }),
            job.function.function.metricErrors({ label: `${job.definition.id} errors`, statistic: 'Sum' }),
          ]),
          right: props.jobs.map((job) =>
            job.function.function.metricDuration({
              label: `${job.definition.id} longest run (timeout ${job.definition.timeoutSeconds * 1000} ms)`,
              statistic: 'Maximum',
            }),
          ),
          width: 6,
          height: 6,
          period: FIVE_MINUTES,
        }),
        graph(
          'Import job DLQ depth (parked uploads)',
          props.jobs.map((job) => job.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: `${job.definition.id} DLQ`, statistic: 'Maximum' })),
          6,
        ),
      );
    }
    if (props.scheduledJobs.length > 0) this.addScheduledJobWidgets(dashboard, props.scheduledJobs);
    return dashboard;
  }

  /** Runs by outcome, the steps' Lambda view, the DLQ, and the totals each run reports. */
  private addScheduledJobWidgets(dashboard: cloudwatch.Dashboard, jobs: readonly ScheduledJob[]) {
    const graph = (title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 6, height: 6, period: FIVE_MINUTES, ...options });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `Scheduled jobs (UTC): ${jobs
          .map((job) => `${job.definition.id} \`${job.schedule}\`, runs stopped after ${job.definition.maxRunHours} h`)
          .join('; ')}`,
        width: 24,
        height: 1,
      }),
    );
    dashboard.addWidgets(
      graph(
        'Scheduled job runs: started, succeeded, failed, timed out, aborted',
        jobs.flatMap((job) => [
          job.stateMachine.metricStarted({ label: `${job.definition.id} started`, statistic: 'Sum' }),
          job.stateMachine.metricSucceeded({ label: `${job.definition.id} succeeded`, statistic: 'Sum' }),
          job.stateMachine.metricFailed({ label: `${job.definition.id} failed`, statistic: 'Sum' }),
          job.stateMachine.metricTimedOut({ label: `${job.definition.id} timed out`, statistic: 'Sum' }),
          job.stateMachine.metricAborted({ label: `${job.definition.id} aborted`, statistic: 'Sum' }),
        ]),
      ),
      graph(
        'Scheduled job steps: invocations and errors; longest step (ms, right)',
        jobs.flatMap((job) => [
          job.function.function.metricInvocations({ label: `${job.definition.id} steps`, statistic: 'Sum' }),
          job.function.function.metricErrors({ label: `${job.definition.id} step errors`, statistic: 'Sum' }),
        ]),
        {
          right: jobs.map((job) =>
            job.function.function.metricDuration({
              label: `${job.definition.id} longest step (timeout ${job.definition.timeoutSeconds * 1000} ms)`,
              statistic: 'Maximum',
            }),
          ),
        },
      ),
      graph(
        'Scheduled job DLQ depth (failed starts, unfinished runs)',
        jobs.map((job) => job.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: `${job.definition.id} DLQ`, statistic: 'Maximum' })),
      ),
      graph(
        'Scheduled job calls per hour',
        jobs.map((job) =>
          flowMetric(MetricName.DownstreamCalls, job.definition.flowId, {
            label: `${job.definition.flowId} ${MetricName.DownstreamCalls}`,
            period: RUN_TOTALS_PERIOD,
          }),
        ),
        { period: RUN_TOTALS_PERIOD, start: '-P7D' },
      ),
    );
    const perRun = (name: MetricName, statistic = 'Sum') =>
      jobs.map((job) => flowMetric(name, job.definition.flowId, { statistic, period: RUN_TOTALS_PERIOD, label: `${job.definition.flowId} ${name}` }));
    dashboard.addWidgets(
      graph('Per run: segments synced, users read (last 7 days)', [...perRun(MetricName.SyncSegments), ...perRun(MetricName.SyncUsersRead)], {
        width: 8,
        period: RUN_TOTALS_PERIOD,
        start: '-P7D',
      }),
      graph('Per run: profiles sent and rejected (last 7 days)', [...perRun(MetricName.SyncProfilesSent), ...perRun(MetricName.SyncProfilesRejected)], {
        width: 8,
        period: RUN_TOTALS_PERIOD,
        start: '-P7D',
      }),
      graph('Per run: duration (s, last 7 days)', perRun(MetricName.SyncRunSeconds, 'Maximum'), { width: 8, period: RUN_TOTALS_PERIOD, start: '-P7D' }),
    );
  }
}
