import * as z from 'zod/mini';
import { catalogue, deliveryQueues, flowOf, ingressFlows, jobs, RouteTemplate, UnknownIdError } from '../../../functions/catalogue';
import { fedBy } from '../../../functions/core/delivery-consumer';
import { seenQueueMessageSchema } from '../../../functions/seen/schemas';

describe('the catalogue index', () => {
  it('finds every flow, queue, job and partner by its id', () => {
    for (const flow of ingressFlows) expect(catalogue.flow(flow.id)).toBe(flow);
    for (const queue of deliveryQueues) expect(catalogue.queue(queue.id)).toBe(queue);
    for (const job of jobs) expect(catalogue.job(job.id)).toBe(job);
    for (const partner of catalogue.partners) expect(catalogue.partner(partner.id)).toBe(partner);
  });

  it('fails on an unknown id by name, listing the ids it holds', () => {
    expect(() => catalogue.queue('no-such-queue')).toThrow(UnknownIdError);
    expect(() => catalogue.queue('no-such-queue')).toThrow(/^no queue no-such-queue in the catalogue \(queues: braze-track, /);
    expect(() => catalogue.uploadJob('odp-segment-sync')).toThrow('no upload job odp-segment-sync in the catalogue (upload jobs: lytics-csv-import)');
    expect(() => catalogue.partner('nimbus')).toThrow(/no partner nimbus in the catalogue \(partners: braze, seen, /);
  });

  it('finds each function by the flow its logs carry', () => {
    expect(catalogue.function('braze-track-bulk-delivery')).toBe(catalogue.queue('braze-track-bulk'));
    expect(catalogue.function('seen-callback')).toBe(catalogue.flow('seen-callback'));
    expect(catalogue.function('odp-segment-sync')).toBe(catalogue.job('odp-segment-sync'));
  });

  it('matches a route with its path parameters, by method', () => {
    const receivers = ingressFlows.find((flow) => flow.path.includes('{'));
    expect(receivers).toBeDefined();
    const template = new RouteTemplate(receivers!.path);
    const path = template.fill((name) => `a b/${name}`);
    expect(catalogue.route('POST', path)).toEqual({ flow: receivers, params: Object.fromEntries(template.parameters.map((n) => [n, `a b/${n}`])) });
    expect(catalogue.route('GET', path)).toBeUndefined();
    expect(catalogue.route('POST', '/no/such/route')).toBeUndefined();
  });

  it('parses a route template once: parameters, matching, filling', () => {
    const template = new RouteTemplate('/seen/campaigns/{campaign_slug}/receivers');
    expect(template.parameters).toEqual(['campaign_slug']);
    expect(template.match('/seen/campaigns/spring%20sale/receivers')).toEqual({ campaign_slug: 'spring sale' });
    expect(template.match('/seen/campaigns//receivers')).toBeUndefined();
    expect(template.match('/seen/campaigns/x/receivers/more')).toBeUndefined();
    expect(template.fill(() => 'a/b')).toBe('/seen/campaigns/a%2Fb/receivers');
  });
});

describe('flowOf: the flow names logs and metrics carry (the alarms and dashboards read them)', () => {
  it('keeps every current name (a new partner adds names; none of these changes)', () => {
    const named = (kind: string, entries: readonly Parameters<typeof flowOf>[0][]) => entries.map((entry) => [`${kind} ${entry.id}`, flowOf(entry)]);
    expect(Object.fromEntries([...named('flow', ingressFlows), ...named('queue', deliveryQueues), ...named('job', jobs)])).toMatchObject({
      'flow seen-callback': 'seen-callback',
      'flow seen-receivers': 'seen-receivers',
      'flow movable-ink-events': 'movable-ink-events',
      'flow sendbird-notifications': 'sendbird-notifications',
      'flow sendbird-braze-callback': 'sendbird-braze-callback',
      'flow sendbird-status': 'sendbird-status',
      'flow lytics-audiences': 'lytics-audiences',
      'flow lytics-users': 'lytics-users',
      'flow odp-activation': 'odp-activation',
      'flow odp-currents': 'odp-currents',
      'queue braze-track': 'braze-track-delivery',
      'queue braze-track-bulk': 'braze-track-bulk-delivery',
      'queue braze-triggers': 'braze-triggers-delivery',
      'queue seen-receivers': 'seen-drain',
      'queue seen-data': 'seen-data-delivery',
      'queue movable-ink': 'movable-ink-delivery',
      'queue sendbird-realtime': 'sendbird-realtime-delivery',
      'queue sendbird-batch': 'sendbird-batch-delivery',
      'queue lytics-users': 'lytics-users-delivery',
      'queue odp-events': 'odp-events-delivery',
      'job lytics-csv-import': 'lytics-csv-import',
      'job odp-segment-sync': 'odp-segment-sync',
    });
  });
});

describe('fedBy: a queue message names a flow that feeds its queue', () => {
  it('accepts the flows feeding the queue (its queue or alsoFeeds) and refuses any other by field', () => {
    const schema = fedBy(seenQueueMessageSchema, ingressFlows, catalogue.queue('seen-data'));
    const message = (flow: string) => ({ v: 1, flow, requestId: 'r', campaign: 'c', receivers: [{ customer_id: 'b1' }] });
    expect(z.safeParse(seenQueueMessageSchema, message('')).success).toBe(false);
    expect(z.safeParse(schema, message('seen-receivers')).success).toBe(true);
    const refused = z.safeParse(schema, message('seen-callback'));
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toContainEqual(['flow', 'flow must be one of seen-receivers']);
  });
});
