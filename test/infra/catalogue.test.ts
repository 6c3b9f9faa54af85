import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { deliveryQueues, ingressFlows, jobs, partners, scheduledJobs, uploadJobs } from '../../functions/catalogue';
import { envPrefix } from '../../functions/core/catalogue-types';
import { loadSettings, settingNames } from '../../functions/core/settings';
import { BridgeStack } from '../../lib/bridge-stack';
import { parseBridgeConfig, scheduleProblem } from '../../lib/config';

/**
 * Walks the catalogue as a newcomer's new partner would be walked: every flow, queue and job must
 * have what the CDK app and the local runner need from its partner folder, so adding a partner
 * is its folder plus one line in functions/catalogue.ts, or this fails saying what is missing.
 */
const root = path.resolve(__dirname, '../..');
const partnerOf = (id: string) => partners.find((partner) => partner.id === id);
const packageScripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('the catalogue: every partner is complete', () => {
  it.each(partners.map((partner) => [partner.id, partner] as const))(
    '%s: its settings are its own, named with its prefix, and hold no credential',
    (_id, partner) => {
      const names = settingNames(partner.settings.schema);
      for (const name of names) {
        expect(name.startsWith(`${envPrefix(partner.id)}_`)).toBe(true);
        // A token endpoint's URL (SEEN_OAUTH_TOKEN_URL) is a setting; a token is not.
        expect(name).not.toMatch(/TOKEN(?!_URL$)|_KEY|PASSWORD|SECRET|USERNAME/);
      }
      for (const name of [...Object.keys(partner.settings.deployDefaults ?? {}), ...(partner.settings.deployRequired ?? [])]) expect(names).toContain(name);
    },
  );

  it.each(partners.map((partner) => [partner.id, partner] as const))(
    '%s: a secret for what it does, and a sandbox for every API it is called on',
    (_id, partner) => {
      const names = settingNames(partner.settings.schema);
      if (partner.flows.length > 0) expect(partner.secret.inbound).toBe(true);
      if (partner.queues.length + partner.jobs.length > 0) {
        expect(partner.secret.outbound.length).toBeGreaterThan(0);
        expect(partner.sandbox).toBeDefined();
        expect(names).toContain(partner.sandbox!.urlSetting);
        for (const other of partner.sandbox!.otherUrlSettings ?? []) expect(names).toContain(other);
        // The sandbox answers nothing it was not written for.
        expect(partner.sandbox!.answer({ method: 'GET', path: '/no/such/path', body: undefined })).toBeUndefined();
      }
    },
  );

  it.each(ingressFlows.map((flow) => [flow.id, flow] as const))('flow %s: its route, handler, queue and auth', (_id, flow) => {
    expect(partnerOf(flow.source)?.flows).toContain(flow);
    expect(existsSync(path.join(root, flow.entry))).toBe(true);
    expect(flow.entry.startsWith(`functions/${flow.source}/`)).toBe(true);
    expect(deliveryQueues.some((queue) => queue.id === flow.queue)).toBe(true);
    for (const lane of flow.alsoFeeds ?? []) expect(deliveryQueues.some((queue) => queue.id === lane)).toBe(true);
    expect(flow.auth.length).toBeGreaterThan(0);
    expect(ingressFlows.filter((other) => other.method === flow.method && other.path === flow.path)).toHaveLength(1);
  });

  it.each(deliveryQueues.map((queue) => [queue.id, queue] as const))('queue %s: its consumer, limits and drive settings', (_id, queue) => {
    const owner = partnerOf(queue.destination);
    expect(owner?.queues).toContain(queue);
    expect(existsSync(path.join(root, queue.consumer.entry))).toBe(true);
    const names = settingNames(owner!.settings.schema);
    if (queue.limits.itemsPerCallSetting) expect(names).toContain(queue.limits.itemsPerCallSetting);
    if (queue.drive.kind === 'schedule') {
      expect(names).toEqual(expect.arrayContaining([queue.drive.intervalSetting, queue.drive.budget.callsSetting, queue.drive.budget.windowSetting]));
    }
    expect(queue.limits.itemsPerCall).toBeGreaterThan(0);
    expect(queue.limits.concurrency).toBeGreaterThan(0);
    expect(deliveryQueues.filter((other) => other.consumer.flowId === queue.consumer.flowId)).toHaveLength(1);
  });

  it.each(jobs.map((job) => [job.id, job] as const))('job %s: its handler and partner', (_id, job) => {
    expect(partnerOf(job.destination)?.jobs).toContain(job);
    expect(existsSync(path.join(root, job.entry))).toBe(true);
    expect(job.entry.startsWith(`functions/${job.destination}/`)).toBe(true);
    expect(jobs.filter((other) => other.flowId === job.flowId)).toHaveLength(1);
  });

  it.each(scheduledJobs.map((job) => [job.id, job] as const))(
    'scheduled job %s: its schedule setting, the partners it reads, its run limits and local script',
    (_id, job) => {
      const owner = partnerOf(job.destination)!;
      // The schedule is a setting of its own partner, whose default is a schedule EventBridge accepts.
      expect(settingNames(owner.settings.schema)).toContain(job.trigger.scheduleSetting);
      const schedule = loadSettings(owner.settings.schema, owner.settings.deployDefaults ?? {})[job.trigger.scheduleSetting];
      expect(typeof schedule).toBe('string');
      expect([schedule, scheduleProblem(schedule as string)]).toEqual([schedule, undefined]);
      // It reads other partners by id; their secrets carry what it calls them with.
      for (const other of job.alsoReads ?? []) {
        expect(partnerOf(other)).toBeDefined();
        expect(other).not.toBe(job.destination);
        expect(partnerOf(other)!.secret.outbound.length).toBeGreaterThan(0);
      }
      // Local defaults are settings of the partners it reads.
      const readable = [job.destination, ...(job.alsoReads ?? [])].flatMap((id) => settingNames(partnerOf(id)!.settings.schema));
      for (const name of Object.keys(job.localDefaults ?? {})) expect(readable).toContain(name);
      // A step fits in a Lambda invocation; a run ends well within a day.
      expect(job.timeoutSeconds).toBeGreaterThan(60);
      expect(job.timeoutSeconds).toBeLessThanOrEqual(900);
      expect(job.maxRunHours).toBeGreaterThan(0);
      expect(job.maxRunHours).toBeLessThan(24);
      // `npm run <localScript>` runs one run locally (package.json belongs to the flow's author).
      expect(Object.keys(packageScripts)).toContain(job.localScript);
    },
  );

  it('imports every handler module the catalogue names (scheduled job steps included), each exporting build and handler', async () => {
    const entries = [...new Set([...ingressFlows.map((f) => f.entry), ...deliveryQueues.map((q) => q.consumer.entry), ...jobs.map((j) => j.entry)])];
    for (const entry of entries) {
      const mod = (await import(path.join(root, entry))) as Record<string, unknown>;
      expect([entry, typeof mod.build, typeof mod.handler]).toEqual([entry, 'function', 'function']);
    }
  });
});

describe('the catalogue: with every partner enabled, every flow is deployed and watched', () => {
  const config = parseBridgeConfig({
    stackName: 'CatalogueWalk',
    braze: { settings: { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com' } },
    // Every partner on, with a value for each setting it requires (its issued endpoint URL ...).
    partners: Object.fromEntries(
      partners
        .filter((p) => !p.alwaysOn)
        .map((p) => [
          p.id,
          { enabled: true, settings: Object.fromEntries((p.settings.deployRequired ?? []).map((name) => [name, `https://${p.id}.example.com/`])) },
        ]),
    ),
  });
  const stack = new BridgeStack(new App(), 'CatalogueWalk', {
    config,
    projectRoot: root,
    codeSource: { kind: 'prebuilt', code: () => lambda.Code.fromInline('export const handler = async () => ({});') },
  });
  const template = Template.fromStack(stack);
  const alarmNames = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties.AlarmName as string);
  const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((route) => route.Properties.RouteKey as string);

  it('has a route for every flow', () => {
    expect(routeKeys.sort()).toEqual(ingressFlows.map((flow) => `${flow.method} ${flow.path}`).sort());
  });

  it('has a queue, a DLQ, a consumer and six alarms for every queue', () => {
    for (const queue of deliveryQueues) {
      expect(stack.queues.get(queue.id)).toBeDefined();
      for (const alarm of ['dlq-not-empty', 'records-parked', 'oldest-message', 'consumer-errors', 'delivery-failures', 'destination-config-fault']) {
        expect(alarmNames).toContain(`CatalogueWalk-${queue.id}-${alarm}`);
      }
    }
  });

  it('has a function, a DLQ and two alarms for every upload job', () => {
    for (const job of uploadJobs) {
      expect(stack.jobs.get(job.id)).toBeDefined();
      expect(alarmNames).toEqual(expect.arrayContaining([`CatalogueWalk-${job.id}-job-errors`, `CatalogueWalk-${job.id}-dlq-not-empty`]));
    }
  });

  it('has a step function, a state machine on its schedule, a DLQ and three alarms for every scheduled job', () => {
    expect(stack.jobState).toBeDefined();
    for (const job of scheduledJobs) {
      const scheduled = stack.scheduledJobs.get(job.id);
      expect(scheduled).toBeDefined();
      expect(scheduled!.definition).toBe(job);
      expect(alarmNames).toEqual(
        expect.arrayContaining([`CatalogueWalk-${job.id}-run-failed`, `CatalogueWalk-${job.id}-run-unfinished`, `CatalogueWalk-${job.id}-dlq-not-empty`]),
      );
    }
    template.resourceCountIs('AWS::StepFunctions::StateMachine', scheduledJobs.length);
  });

  it('has every partner secret its functions read', () => {
    for (const owner of new Set([
      ...ingressFlows.map((f) => f.source),
      ...deliveryQueues.map((q) => q.destination),
      ...jobs.map((j) => j.destination),
      ...scheduledJobs.flatMap((j) => j.alsoReads ?? []),
    ])) {
      expect(() => stack.secrets.secretFor(owner)).not.toThrow();
    }
    for (const owner of new Set(ingressFlows.map((f) => f.source))) expect(() => stack.secrets.inboundSecretFor(owner)).not.toThrow();
  });
});
