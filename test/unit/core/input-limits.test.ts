import path from 'node:path';
import type { Context } from 'aws-lambda';
import { deliveryQueues, type IngressFlow, ingressFlows } from '../../../functions/catalogue';
import { laneQueueVariable } from '../../../functions/core/catalogue-types';
import { loadConfig } from '../../../functions/core/config';
import { createDeps, type Deps } from '../../../functions/core/deps';
import { PayloadTooLargeError, ValidationError } from '../../../functions/core/errors';
import { type HttpEvent, type HttpResult, MAX_LISTED_ISSUES } from '../../../functions/core/ingress';
import { checkRecordLimit, nestsDeeperThan, parseJsonBody } from '../../../functions/core/json-input';
import { MetricName } from '../../../functions/core/observability';
import { EnvSecretStore } from '../../../functions/core/secrets';
import { errorThrownBy, FakeClock, RecordingQueue, routeEvent } from '../helpers';

const TOKEN = 'limits-inbound-token';
const projectRoot = path.resolve(__dirname, '../../..');

const context = { awsRequestId: 'aws-1', functionName: 'f', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const lanes = Object.fromEntries(deliveryQueues.map((queue) => [laneQueueVariable(queue.id), `https://sqs.test/${queue.id}`]));
const config = loadConfig({ LOG_LEVEL: 'SILENT', QUEUE_URL: 'https://sqs.test/queue', INBOUND_TOKEN: TOKEN, ...lanes });
const flowOf = (id: string): IngressFlow => ingressFlows.find((flow) => flow.id === id)!;
const pathParameters: Record<string, Record<string, string>> = { 'seen-receivers': { campaign_slug: 'spring-24' } };

/** The flow's real handler (its module's build), with a recording queue and metrics whose calls are kept. */
async function routeOf(flow: IngressFlow) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const queue = new RecordingQueue();
  const mod = (await import(path.join(projectRoot, flow.entry))) as {
    build: (deps: Deps, flow: IngressFlow) => (event: HttpEvent, context: Context) => Promise<HttpResult>;
  };
  const deps = createDeps(flow.id, config, { queue, secrets: EnvSecretStore.fromConfig(config), clock: new FakeClock(Date.UTC(2023, 11, 7)) });
  const counted: string[] = [];
  const addMetric = deps.metrics.addMetric.bind(deps.metrics);
  jest.spyOn(deps.metrics, 'addMetric').mockImplementation((name, unit, value) => {
    counted.push(name);
    return addMetric(name, unit, value);
  });
  const handler = mod.build(deps, flow);
  const post = async (body: string, token = TOKEN) => {
    const event = routeEvent(flow, { body, token, pathParameters: pathParameters[flow.id] ?? {} });
    const result = await handler(event, context);
    return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') as Record<string, unknown>, bytes: (result.body ?? '').length };
  };
  return { post, queue, counted };
}

/** `[[[...]]]` `depth` levels deep. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** A body carrying `count` (empty) records where the flow counts them. */
function recordsBody(flow: IngressFlow, count: number): string {
  const records = Array.from({ length: count }, () => ({}));
  return JSON.stringify(flow.limits.recordsField ? { [flow.limits.recordsField]: records } : records);
}

describe('nestsDeeperThan', () => {
  it('counts objects and arrays, not the brackets inside strings', () => {
    expect(nestsDeeperThan('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":[{"b":{}}]}', 3)).toBe(true);
    expect(nestsDeeperThan('{"a":"[[[[[[{{{{{","b":"\\"[[[["}', 1)).toBe(false);
    expect(nestsDeeperThan(nested(100_000), 32)).toBe(true);
  });
});

describe('parseJsonBody', () => {
  const limits = { maxDepth: 8 };

  it('refuses an integer beyond 2^53 anywhere, naming its path, and never rounds it', () => {
    const error = errorThrownBy(ValidationError, () => parseJsonBody('[{"a":1},{"a":2},{"a":3},{"external_id":12345678901234567890}]', limits));

    expect(error.issues).toEqual([{ path: '[3].external_id', message: expect.stringContaining('beyond 2^53') }]);
    expect(error.message).toContain('[3].external_id');
    expect(error.message).not.toContain('1234567890123456');
  });

  it('takes every integer JSON holds exactly, 2^53 itself and negative ones included, and ids written as strings', () => {
    expect(parseJsonBody('{"a":9007199254740992,"b":-9007199254740992,"c":"12345678901234567890","d":1e300,"e":0.1}', limits)).toEqual({
      a: 2 ** 53,
      b: -(2 ** 53),
      c: '12345678901234567890',
      d: 1e300,
      e: 0.1,
    });
    expect(() => parseJsonBody('{"a":-9007199254740993}', limits)).toThrow('integer beyond 2^53 at a');
  });

  it('takes one under a field the flow reads the digits of itself (exactNumbersIn)', () => {
    const body = '{"events":[{"properties":{"order_id":12345678901234567890}},{"id":12345678901234567890}]}';

    const error = errorThrownBy(ValidationError, () => parseJsonBody(body, { maxDepth: 8, exactNumbersIn: ['events[].properties'] }));

    expect(error.issues.map((issue) => issue.path)).toEqual(['events[1].id']);
  });

  it('refuses nesting deeper than the limit before parsing, naming the limit', () => {
    const error = errorThrownBy(ValidationError, () => parseJsonBody(nested(9), limits));

    expect(error.message).toBe("body nests deeper than 8 levels, this route's nesting limit");
    expect(parseJsonBody(nested(8), limits)).toEqual([[[[[[[[]]]]]]]]);
  });
});

describe('checkRecordLimit', () => {
  it('counts the items of the body, else of the flow records field, else one record', () => {
    expect(() => checkRecordLimit([1, 2, 3], { maxRecords: 3 })).not.toThrow();
    expect(errorThrownBy(PayloadTooLargeError, () => checkRecordLimit([1, 2, 3, 4], { maxRecords: 3 })).message).toBe(
      '4 records in the body: this route takes at most 3 per request (its record limit)',
    );
    expect(() => checkRecordLimit({ events: [1, 2] }, { maxRecords: 1, recordsField: 'events' })).toThrow('2 records in events');
    expect(() => checkRecordLimit({ events: 'none' }, { maxRecords: 1, recordsField: 'events' })).not.toThrow();
  });
});

describe.each(ingressFlows.map((flow) => [flow.id, flow] as const))('the %s route keeps its limits', (_id, flow) => {
  it('has a record limit and a nesting limit in its catalogue entry', () => {
    expect(flow.limits.maxRecords).toBeGreaterThanOrEqual(1);
    expect(flow.limits.maxDepth).toBeGreaterThanOrEqual(2);
    expect(flow.limits.maxDepth).toBeLessThanOrEqual(64);
  });

  it('answers 400 naming the nesting limit to a body 10,000 levels deep, and counts it', async () => {
    const { post, queue, counted } = await routeOf(flow);

    const answer = await post(nested(10_000));

    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe(`body nests deeper than ${flow.limits.maxDepth} levels, this route's nesting limit`);
    expect(queue.sent).toEqual([]);
    expect(counted).toEqual(expect.arrayContaining([MetricName.RequestsRefused, MetricName.RequestsInvalid]));
  });

  it('answers 413 naming the record limit to one record more than it takes, and counts it', async () => {
    const { post, queue, counted } = await routeOf(flow);
    const count = Math.max(flow.limits.maxRecords + 1, 2);

    const answer = await post(recordsBody(flow, count));

    expect(answer.status).toBe(413);
    expect(answer.body.error).toBe(
      `${count} records in ${flow.limits.recordsField ?? 'the body'}: this route takes at most ${flow.limits.maxRecords} per request (its record limit)`,
    );
    expect(queue.sent).toEqual([]);
    expect(counted).toEqual(expect.arrayContaining([MetricName.RequestsRefused, MetricName.RequestsTooLarge]));
    expect(counted).not.toContain(MetricName.IngressErrors);
  });

  it('answers 401 to a wrong token and counts it as unauthorized', async () => {
    const { post, counted } = await routeOf(flow);

    const answer = await post('{}', 'not-the-token');

    expect(answer.status).toBe(401);
    expect(counted).toEqual([MetricName.RequestsRefused, MetricName.RequestsUnauthorized]);
  });
});

describe('integers beyond 2^53 where an id is expected', () => {
  it.each([
    ['seen-receivers', '[{"customer_id":"1"},{"customer_id":"2"},{"customer_id":"3"},{"customer_id":12345678901234567890}]', '[3].customer_id'],
    ['seen-callback', '{"customer_id":12345678901234567890,"campaign_slug":"spring-24"}', 'customer_id'],
    [
      'lytics-audiences',
      '{"lytics_to_braze_audience":[{"external_id":"u1","lytics_segments":{"add":["a"]}},{"external_id":12345678901234567890,' +
        '"lytics_segments":{"add":["a"]}}]}',
      'lytics_to_braze_audience[1].external_id',
    ],
    ['odp-activation', '{"target":"profile","records":[{"external_id":"u1"},{"external_id":12345678901234567890}]}', 'records[1].external_id'],
    ['sendbird-notifications', '{"template_key":"t","targets":["a",12345678901234567890]}', 'targets[1]'],
    ['movable-ink-events', '{"events":[{"name":"Viewed","external_id":12345678901234567890}]}', 'events[0].external_id'],
  ])('%s refuses one with 400 naming its path, and queues nothing', async (id, body, where) => {
    const { post, queue } = await routeOf(flowOf(id));

    const answer = await post(body);

    expect(answer.status).toBe(400);
    expect(answer.body.issues).toEqual([{ path: where, message: 'integer beyond 2^53, which JSON numbers cannot hold exactly: send it as a string' }]);
    expect(queue.sent).toEqual([]);
  });

  it('movable-ink-events still passes one in properties through with its digits (it reads them from the raw text)', async () => {
    const { post, queue } = await routeOf(flowOf('movable-ink-events'));

    const answer = await post('{"events":[{"name":"Order Placed","external_id":"user-1","time":1701886845,"properties":{"order_id":12345678901234567890}}]}');

    expect(answer.status).toBe(202);
    expect(queue.sent.map((message) => message.body).join()).toContain('12345678901234567890');
  });
});

describe('the Lytics audience array', () => {
  const flow = flowOf('lytics-audiences');
  const record = (i: number) => ({ external_id: `u${i}`, lytics_segments: { add: ['vip'] } });

  it('is bounded: 10,001 records are refused with 413 naming the limit, 10,000 are taken', async () => {
    const { post, queue } = await routeOf(flow);

    const over = await post(JSON.stringify({ lytics_to_braze_audience: Array.from({ length: 10_001 }, (_, i) => record(i)) }));
    const at = await post(JSON.stringify({ lytics_to_braze_audience: Array.from({ length: 10_000 }, (_, i) => record(i)) }));

    expect(over.status).toBe(413);
    expect(over.body.error).toContain('at most 10000 per request (its record limit)');
    expect(at).toMatchObject({ status: 202, body: { accepted: 10_000 } });
    expect(queue.sent.length).toBeGreaterThan(0);
  });

  it('lists every refused record by index but at most MAX_LISTED_ISSUES issues, so the answer stays small', async () => {
    const { post } = await routeOf(flow);
    const bad = { external_id: '', lytics_segments: { add: [1, 2, 3] } };
    const records = [record(0), ...Array.from({ length: 9_999 }, () => bad)];

    const answer = await post(JSON.stringify({ lytics_to_braze_audience: records }));

    expect(answer.status).toBe(202);
    const rejected = answer.body.rejected as { index: number; issues: unknown[] }[];
    expect(rejected).toHaveLength(9_999);
    expect(rejected[9_998]!.index).toBe(9_999);
    expect(rejected.reduce((n, r) => n + r.issues.length, 0)).toBe(MAX_LISTED_ISSUES);
    expect(answer.body.issuesNotListed).toBe(9_999 * 4 - MAX_LISTED_ISSUES);
    expect(answer.bytes).toBeLessThan(1024 * 1024);
  });

  it('refuses a record listing more segments than a record may (500), naming the list, without a 500', async () => {
    const { post } = await routeOf(flow);
    const huge = { external_id: 'u1', lytics_segments: { add: Array.from({ length: 2_000_000 }, () => 1) } };

    const answer = await post(JSON.stringify({ lytics_to_braze_audience: [huge] }));

    expect(answer.status).toBe(400);
    expect(answer.body.issues).toEqual([expect.objectContaining({ path: 'lytics_to_braze_audience[0].lytics_segments.add' })]);
  });
});
