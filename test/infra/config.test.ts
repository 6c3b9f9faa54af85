import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deliveryQueues, ingressFlows, jobs, type S3Job } from '../../functions/catalogue';
import * as catalogue from '../../functions/catalogue';
import { configSchema } from '../../functions/core/config';
import { BridgeConfigError, loadBridgeConfig, ownerSettings, parseBridgeConfig, planDeployment, secretIdVariableName } from '../../lib/config';
import { fullInput, lyticsInput, minimalInput } from './stack-fixtures';

const contextOf = (values: Record<string, unknown>) => ({ tryGetContext: (key: string) => values[key] });

describe('deployment configuration', () => {
  it('fills SEEN, API, alarm and log defaults for a minimal configuration', () => {
    const config = parseBridgeConfig(minimalInput);

    expect(config.stackName).toBe('BrazePartnerBridge');
    expect(config.braze.maxObjectsPerRequest).toBe(75);
    expect(config.partners.seen).toMatchObject({ apiUrl: 'https://api.seen.io', maxCallsPerHour: 1000, drainIntervalSeconds: 60 });
    expect(config.api.throttle).toEqual({ rateLimit: 200, burstLimit: 400 });
    expect(config.alarms.oldestMessageAgeSeconds).toBe(900);
    expect(config.logs).toEqual({ retentionDays: 30, level: 'INFO' });
    expect(config.imports).toEqual({ expireAfterDays: 30, versioned: false, accessLogsExpireAfterDays: 90 });
  });

  it('fills the Lytics defaults the functions use when unset', () => {
    expect(parseBridgeConfig(lyticsInput).partners.lytics).toEqual({
      enabled: true,
      apiUrl: 'https://api.lytics.io',
      bulkApiUrl: 'https://bulk.lytics.io',
      usersStream: 'braze_users',
      maxEventsPerRequest: 500,
      csvStream: 'braze_segment_export',
      csvRowsPerRequest: 50000,
      settings: {},
    });
  });

  it('accepts the full configuration', () => {
    expect(() => parseBridgeConfig(fullInput)).not.toThrow();
  });

  it.each([
    ['a drain interval that is not whole minutes', { seen: { enabled: true, drainIntervalSeconds: 90 } }, 'partners.seen.drainIntervalSeconds'],
    ['a call budget too small for one call per run', { seen: { enabled: true, maxCallsPerHour: 10 } }, 'partners.seen.maxCallsPerHour'],
    ['SEEN campaigns the callback could not read', { seen: { enabled: true, campaigns: { campaigns: { x: { attributes: { a: 'not valid!' } } } } } }, 'partners.seen.campaigns'],
    ['a credential passed as a setting', { lytics: { enabled: true, settings: { LYTICS_API_TOKEN: 'abc' } } }, 'credentials belong in the partner secret'],
    ['a misspelt partner', { seeen: { enabled: true } }, 'seeen'],
    ['the provisional Lytics stream key', { lytics: { enabled: true, stream: 'braze_users' } }, 'stream'],
    ['a Lytics stream name the functions refuse', { lytics: { enabled: true, csvStream: 'braze segment' } }, 'partners.lytics.csvStream'],
    ['a Lytics bulk API that is not https', { lytics: { enabled: true, bulkApiUrl: 'http://bulk.lytics.io' } }, 'partners.lytics.bulkApiUrl'],
    ['a partial secret ARN', { seen: { enabled: true, secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:seen' } }, 'complete ARN'],
  ])('rejects %s, naming the field', (_name, partners, expected) => {
    expect(() => parseBridgeConfig({ ...minimalInput, partners })).toThrow(expected);
  });

  it.each([
    ['expiry of 0 days', { expireAfterDays: 0 }, 'imports.expireAfterDays'],
    ['an unknown option', { expireAfterDay: 7 }, 'expireAfterDay'],
  ])('rejects imports with %s', (_name, imports, expected) => {
    expect(() => parseBridgeConfig({ ...minimalInput, imports })).toThrow(expected);
  });

  it('rejects a Braze endpoint that is not https', () => {
    expect(() => parseBridgeConfig({ braze: { restEndpoint: 'http://rest.iad-01.braze.com' } })).toThrow(/braze\.restEndpoint/);
  });

  it('reads the bridge object from cdk.json context', () => {
    const config = loadBridgeConfig(contextOf({ bridge: minimalInput }));

    expect(config.partners.seen?.enabled).toBe(true);
  });

  it('prefers a config file named by -c configFile', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-config-'));
    writeFileSync(path.join(dir, 'prod.json'), JSON.stringify(fullInput));

    const config = loadBridgeConfig(contextOf({ configFile: 'prod.json', bridge: minimalInput }), dir);

    expect(config.stackName).toBe('BridgeFull');
  });

  it('fails with a hint when there is no configuration at all', () => {
    expect(() => loadBridgeConfig(contextOf({}))).toThrow(BridgeConfigError);
  });
});

describe('deployment plan', () => {
  it('deploys every SEEN flow, the queues they feed and the Braze and SEEN secrets when SEEN is on', () => {
    const plan = planDeployment(parseBridgeConfig(minimalInput), catalogue);

    expect(plan.flows.map((f) => f.id)).toEqual(ingressFlows.filter((f) => f.owner === 'seen').map((f) => f.id));
    expect(plan.queues.map((q) => q.id).sort()).toEqual(['braze-track', 'seen-receivers']);
    expect(plan.owners.sort()).toEqual(['braze', 'seen']);
  });

  it('deploys no flow and no queue, only the Braze secret, when no partner is enabled', () => {
    const plan = planDeployment(parseBridgeConfig({ braze: minimalInput.braze }), catalogue);

    expect(plan.flows).toEqual([]);
    expect(plan.queues).toEqual([]);
    expect(plan.owners).toEqual(['braze']);
  });

  it('deploys the Lytics flows, the queues they feed, the Lytics job and the Braze and Lytics secrets when Lytics is on', () => {
    const plan = planDeployment(parseBridgeConfig(lyticsInput), catalogue);

    expect(plan.flows.map((f) => f.id)).toEqual(ingressFlows.filter((f) => f.owner === 'lytics').map((f) => f.id));
    expect(plan.flows.map((f) => f.id)).toEqual(['lytics-audiences', 'lytics-users']);
    expect(plan.queues.map((q) => q.id).sort()).toEqual([...new Set(plan.flows.map((f) => f.queue))].sort());
    expect(plan.queues.map((q) => q.id).sort()).toEqual(['braze-track', 'lytics-users']);
    expect(plan.jobs.map((j) => j.id)).toEqual(jobs.filter((j) => j.owner === 'lytics').map((j) => j.id));
    expect(plan.jobs.map((j) => j.id)).toContain('lytics-csv-import');
    expect(plan.owners.sort()).toEqual(['braze', 'lytics']);
  });

  it('deploys no job when its owner is disabled', () => {
    expect(planDeployment(parseBridgeConfig(minimalInput), catalogue).jobs).toEqual([]);
    expect(planDeployment(parseBridgeConfig({ ...lyticsInput, partners: { lytics: { enabled: false } } }), catalogue).jobs).toEqual([]);
  });

  it('deploys every catalogue flow, queue and job when every partner is on', () => {
    const plan = planDeployment(parseBridgeConfig(fullInput), catalogue);

    expect(plan.flows).toHaveLength(ingressFlows.length);
    expect(plan.queues).toHaveLength(deliveryQueues.length);
    expect(plan.jobs).toHaveLength(jobs.length);
  });

  describe('refuses jobs that could not share the imports bucket', () => {
    const job = jobs[0]!;
    const withJobs = (...extra: S3Job[]) => ({ ...catalogue, jobs: [...catalogue.jobs, ...extra] });
    const config = parseBridgeConfig(lyticsInput);

    it.each([
      ['the same prefix and suffix', { ...job, id: 'other' }, 'would both be started by the same uploads'],
      ['a prefix inside its prefix', { ...job, id: 'other', trigger: { ...job.trigger, prefix: `${job.trigger.prefix}sub/` } }, 'would both be started'],
      ['a suffix ending like its suffix', { ...job, id: 'other', trigger: { ...job.trigger, suffix: `.gz${job.trigger.suffix}` } }, 'would both be started'],
      ['the same id', { ...job, trigger: { ...job.trigger, prefix: 'elsewhere/' } }, 'two jobs named'],
      ['a queue id', { ...job, id: 'lytics-users', trigger: { ...job.trigger, prefix: 'elsewhere/' } }, 'id of a queue'],
      ['a prefix that is not a folder', { ...job, id: 'other', trigger: { ...job.trigger, prefix: 'elsewhere' } }, 'must be a folder'],
      ['an empty prefix', { ...job, id: 'other', trigger: { ...job.trigger, prefix: '' } }, 'must be a folder'],
    ])('with %s', (_name, other, expected) => {
      expect(() => planDeployment(config, withJobs(other))).toThrow(expected);
    });

    it('but accepts another prefix, or another suffix', () => {
      const otherPrefix = { ...job, id: 'other-prefix', trigger: { ...job.trigger, prefix: 'elsewhere/' } };
      const otherSuffix = { ...job, id: 'other-suffix', trigger: { ...job.trigger, suffix: '.json' } };

      expect(planDeployment(config, withJobs(otherPrefix, otherSuffix)).jobs).toHaveLength(jobs.length + 2);
    });
  });

  it('skips a queue no enabled flow feeds', () => {
    const onlyCallback = { ...catalogue, ingressFlows: ingressFlows.filter((f) => f.id === 'seen-callback') };

    const plan = planDeployment(parseBridgeConfig(minimalInput), onlyCallback);

    expect(plan.queues.map((q) => q.id)).toEqual(['braze-track']);
    expect(deliveryQueues.length).toBeGreaterThan(plan.queues.length);
  });
});

describe('function settings', () => {
  it('names owner secret variables as functions/core/secrets.ts does', () => {
    expect(secretIdVariableName('seen')).toBe('SEEN_SECRET_ID');
    expect(secretIdVariableName('movable-ink')).toBe('MOVABLE_INK_SECRET_ID');
  });

  it('turns SEEN options into the variables functions/core/config.ts reads', () => {
    const config = parseBridgeConfig(fullInput);

    expect(ownerSettings(config, 'seen')).toEqual({
      SEEN_API_URL: 'https://api.staging.seen.io',
      SEEN_MAX_CALLS_PER_HOUR: '600',
      SEEN_DRAIN_INTERVAL_SECONDS: '120',
      SEEN_MAX_RECEIVERS_PER_CALL: '100',
      SEEN_CAMPAIGNS: JSON.stringify(fullInput.partners!.seen!.campaigns),
    });
    expect(ownerSettings(config, 'braze')).toEqual({ BRAZE_REST_ENDPOINT: 'https://rest.fra-01.braze.eu', BRAZE_MAX_OBJECTS_PER_REQUEST: '50' });
  });

  it('turns Lytics options into the variables functions/core/config.ts reads, with its defaults', () => {
    const settings = ownerSettings(parseBridgeConfig(lyticsInput), 'lytics');

    expect(settings).toEqual({
      LYTICS_API_URL: 'https://api.lytics.io',
      LYTICS_BULK_API_URL: 'https://bulk.lytics.io',
      LYTICS_USERS_STREAM: 'braze_users',
      LYTICS_MAX_EVENTS_PER_REQUEST: '500',
      LYTICS_CSV_STREAM: 'braze_segment_export',
      LYTICS_CSV_ROWS_PER_REQUEST: '50000',
    });
    // The same defaults as the functions' own schema.
    const defaults = configSchema.parse({});
    for (const name of ['LYTICS_USERS_STREAM', 'LYTICS_MAX_EVENTS_PER_REQUEST', 'LYTICS_CSV_STREAM', 'LYTICS_CSV_ROWS_PER_REQUEST'] as const) {
      expect(settings[name]).toBe(String(defaults[name]));
    }
    expect(Object.keys(settings).every((name) => name in configSchema.shape)).toBe(true);
  });

  it('refuses settings that would overflow the 4 KB Lambda environment', () => {
    const config = parseBridgeConfig({ ...minimalInput, partners: { lytics: { enabled: true, settings: { LYTICS_NOTE: 'x'.repeat(3000) } } } });

    expect(() => ownerSettings(config, 'lytics')).toThrow(/bytes of Lambda environment/);
  });
});
