import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { catalogue } from '../../../functions/catalogue';
import { loadConfig } from '../../../functions/core/config';
import { createDeps } from '../../../functions/core/deps';
import type { HttpEvent } from '../../../functions/core/ingress';
import { MetricName } from '../../../functions/core/observability';
import { EnvSecretStore } from '../../../functions/core/secrets';
import { build } from '../../../functions/odp/currents';
import { RecordingQueue, readFixture } from '../helpers';

const context = { awsRequestId: 'aws-1', functionName: 'f', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
type CurrentsEvent = Record<string, unknown> & { properties?: Record<string, unknown> };

describe('odp-currents ingress: events not sent for want of an identifier', () => {
  it('counts them per flow and per Braze event type (a metric dimension) and logs the types and counts only, never user data', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const config = loadConfig({ LOG_LEVEL: 'SILENT', INBOUND_TOKEN: 'currents-token', QUEUE_URL: 'https://sqs.test/odp-events' });
    const queue = new RecordingQueue();
    const deps = createDeps('odp-currents', config, { queue, secrets: EnvSecretStore.fromConfig(config) });
    const perType: { dimensions: [string, string][]; metrics: [string, number][] }[] = [];
    jest.spyOn(deps.metrics, 'singleMetric').mockImplementation(() => {
      const recorded = { dimensions: [] as [string, string][], metrics: [] as [string, number][] };
      perType.push(recorded);
      return {
        addDimension: (name: string, value: string) => void recorded.dimensions.push([name, value]),
        addMetric: (name: string, _unit: unknown, value: number) => void recorded.metrics.push([name, value]),
      } as unknown as Metrics;
    });
    const added = jest.spyOn(deps.metrics, 'addMetric');
    const warn = jest.spyOn(deps.logger, 'warn');
    // Braze's connector-page examples: without ODP_EXTERNAL_ID_IDENTIFIER only the two Email Opens carry an identifier (their email).
    const events = (readFixture('odp/currents-connector-page.json') as { events: CurrentsEvent[] }).events.map((event, i) => ({ ...event, id: `e-${i}` }));
    const handler = build(deps, catalogue.flow('odp-currents'));

    const result = await handler(
      {
        version: '2.0',
        routeKey: 'POST /optimizely/currents',
        rawPath: '/optimizely/currents',
        headers: { authorization: 'Bearer currents-token' },
        body: JSON.stringify({ events }),
        isBase64Encoded: false,
        requestContext: { requestId: 'req-1', http: { method: 'POST', path: '/optimizely/currents' } },
      } as unknown as HttpEvent,
      context,
    );

    expect({ status: result.statusCode, body: JSON.parse(result.body ?? '{}') }).toEqual({ status: 202, body: { accepted: 2, skipped: 9 } });
    expect(queue.sent).toHaveLength(2);
    expect(added).toHaveBeenCalledWith(MetricName.RecordsWithoutIdentifier, 'Count', 9);
    expect(perType.map((m) => [m.dimensions, m.metrics])).toEqual(
      expect.arrayContaining([
        [[['event_type', 'users.messages.inappmessage.Click']], [[MetricName.RecordsWithoutIdentifier, 2]]],
        [[['event_type', 'users.behaviors.Purchase']], [[MetricName.RecordsWithoutIdentifier, 1]]],
      ]),
    );
    expect(perType).toHaveLength(6);
    const logged = warn.mock.calls.find(([message]) => String(message).startsWith('events not sent to ODP'));
    expect(logged?.[1]).toEqual({
      withoutIdentifier: {
        'users.messages.inappmessage.Click': 2,
        'users.messages.pushnotification.Send': 2,
        'users.messages.sms.Delivery': 2,
        'users.behaviors.CustomEvent': 1,
        'users.behaviors.Purchase': 1,
        'users.behaviors.app.SessionStart': 1,
      },
    });
    expect(JSON.stringify(warn.mock.calls)).not.toMatch(/user_id|\+1646|test@test\.com/);
  });
});
