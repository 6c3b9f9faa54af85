import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as catalogue from '../../functions/catalogue';
import { deliveryQueues, ingressFlows, type S3Job, type ScheduledJob, scheduledJobs, uploadJobs } from '../../functions/catalogue';
import { inboundSecretIdVariable, secretIdVariable } from '../../functions/core/secrets';
import { loadSettings, settingNames } from '../../functions/core/settings';
import { lyticsSettings } from '../../functions/lytics/settings';
import { seenSettings } from '../../functions/seen/settings';
import {
  BridgeConfigError,
  type BridgeConfigInput,
  deployedSettings,
  inboundSecretIdVariableName,
  loadBridgeConfig,
  ownerSettings,
  parseBridgeConfig,
  partnerDeployment,
  planDeployment,
  scheduleExpression,
  scheduleProblem,
  secretIdVariableName,
} from '../../lib/config';
import { fullInput, fullSeenCampaigns, importedLyticsInboundSecretArn, importedSeenSecretArn, lyticsInput, minimalInput } from './stack-fixtures';

const contextOf = (values: Record<string, unknown>) => ({ tryGetContext: (key: string) => values[key] });

describe('deployment configuration', () => {
  it('fills Braze, SEEN, API, alarm and log defaults for a minimal configuration', () => {
    const config = parseBridgeConfig(minimalInput);

    expect(config.stackName).toBe('BrazePartnerBridge');
    expect(partnerDeployment(config, 'braze')).toEqual({ enabled: true, settings: { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com' } });
    expect(deployedSettings(config, 'braze')).toEqual({
      BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com',
      BRAZE_MAX_OBJECTS_PER_REQUEST: '75',
      BRAZE_EMAIL_PRIORITIZATION: '["identified","most_recently_updated"]',
    });
    expect(partnerDeployment(config, 'seen')).toEqual({ enabled: true, settings: {} });
    expect(deployedSettings(config, 'seen')).toMatchObject({
      SEEN_API_URL: 'https://api.seen.io',
      SEEN_MAX_CALLS_PER_HOUR: '1000',
      SEEN_DRAIN_INTERVAL_SECONDS: '60',
    });
    expect(config.api.throttle).toEqual({ rateLimit: 200, burstLimit: 400 });
    expect(config.alarms.oldestMessageAgeSeconds).toBe(900);
    expect(config.logs).toEqual({ retentionDays: 30, level: 'INFO' });
    expect(config.imports).toEqual({ expireAfterDays: 30, versioned: false, accessLogsExpireAfterDays: 90 });
  });

  it('fills the Lytics defaults the functions use when unset', () => {
    const config = parseBridgeConfig(lyticsInput);

    expect(partnerDeployment(config, 'lytics')).toEqual({ enabled: true, settings: {} });
    expect(deployedSettings(config, 'lytics')).toEqual({
      LYTICS_API_URL: 'https://api.lytics.io',
      LYTICS_BULK_API_URL: 'https://bulk.lytics.io',
      LYTICS_USERS_STREAM: 'braze_users',
      LYTICS_MAX_EVENTS_PER_REQUEST: '500',
      LYTICS_CSV_STREAM: 'braze_segment_export',
      LYTICS_CSV_ROWS_PER_REQUEST: '50000',
    });
  });

  it('accepts the full configuration, keeping its sections as given', () => {
    const config = parseBridgeConfig(fullInput);

    expect(partnerDeployment(config, 'seen')).toMatchObject({
      enabled: true,
      secretArn: importedSeenSecretArn,
      settings: { SEEN_CAMPAIGNS: fullSeenCampaigns },
    });
    expect(partnerDeployment(config, 'lytics')).toMatchObject({ enabled: true, inboundSecretArn: importedLyticsInboundSecretArn });
    expect(partnerDeployment(config, 'braze')?.settings).toEqual({ BRAZE_REST_ENDPOINT: 'https://rest.fra-01.braze.eu', BRAZE_MAX_OBJECTS_PER_REQUEST: 50 });
  });

  it('leaves a partner off unless its section says enabled, and Braze always on', () => {
    const config = parseBridgeConfig({ ...minimalInput, partners: { seen: { settings: { SEEN_MAX_CALLS_PER_HOUR: 500 } } } });

    expect(partnerDeployment(config, 'seen')?.enabled).toBe(false);
    expect(partnerDeployment(config, 'lytics')).toBeUndefined();
    expect(partnerDeployment(config, 'braze')?.enabled).toBe(true);
  });

  it.each([
    [
      'SEEN campaigns the callback could not read',
      { seen: { enabled: true, settings: { SEEN_CAMPAIGNS: { campaigns: { x: { attributes: { a: 'not valid!' } } } } } } },
      'partners.seen.settings.SEEN_CAMPAIGNS',
    ],
    [
      'a setting the partner does not have',
      { seen: { enabled: true, settings: { SEEN_MAX_CALLS_PER_DAY: 1000 } } },
      'partners.seen.settings.SEEN_MAX_CALLS_PER_DAY: not a seen setting',
    ],
    [
      'a number setting that is not a number',
      { seen: { enabled: true, settings: { SEEN_MAX_CALLS_PER_HOUR: 'many' } } },
      'partners.seen.settings.SEEN_MAX_CALLS_PER_HOUR',
    ],
    ['a credential passed as a setting', { lytics: { enabled: true, settings: { LYTICS_API_TOKEN: 'abc' } } }, 'credentials belong in the partner secret'],
    [
      'an inbound token passed as a setting',
      { seen: { enabled: true, settings: { INBOUND_TOKEN: 'abc' } } },
      'partners.seen.settings.INBOUND_TOKEN: credentials belong in the partner secret',
    ],
    ['a misspelt partner', { seeen: { enabled: true } }, 'seeen'],
    ['the provisional Lytics stream key', { lytics: { enabled: true, stream: 'braze_users' } }, 'stream'],
    ['an option under its former name, outside settings', { lytics: { enabled: true, csvStream: 'braze_segment_export' } }, 'csvStream'],
    [
      'a Lytics stream name the functions refuse',
      { lytics: { enabled: true, settings: { LYTICS_CSV_STREAM: 'braze segment' } } },
      'partners.lytics.settings.LYTICS_CSV_STREAM',
    ],
    [
      'a Lytics bulk API that is not https',
      { lytics: { enabled: true, settings: { LYTICS_BULK_API_URL: 'http://bulk.lytics.io' } } },
      'partners.lytics.settings.LYTICS_BULK_API_URL: must be an https:// URL',
    ],
    [
      'a SEEN API that is not https',
      { seen: { enabled: true, settings: { SEEN_API_URL: 'http://api.seen.io' } } },
      'partners.seen.settings.SEEN_API_URL: must be an https:// URL',
    ],
    ['a partial secret ARN', { seen: { enabled: true, secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:seen' } }, 'complete ARN'],
    [
      'a partial inbound secret ARN',
      { seen: { enabled: true, inboundSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:seen/inbound' } },
      'partners.seen.inboundSecretArn',
    ],
  ])('rejects %s, naming the field', (_name, partners, expected) => {
    expect(() => parseBridgeConfig({ ...minimalInput, partners })).toThrow(expected);
  });

  it("takes a token endpoint's URL as a setting (SEEN_OAUTH_TOKEN_URL), never a token (SEEN_OAUTH_CLIENT_SECRET)", () => {
    const withSeen = (settings: Record<string, string>) => parseBridgeConfig({ ...minimalInput, partners: { seen: { enabled: true, settings } } });

    expect(deployedSettings(withSeen({ SEEN_OAUTH_TOKEN_URL: 'https://next.seen.io/oauth2/token' }), 'seen').SEEN_OAUTH_TOKEN_URL).toBe(
      'https://next.seen.io/oauth2/token',
    );
    expect(() => withSeen({ SEEN_OAUTH_CLIENT_SECRET: 'abc' })).toThrow(
      'partners.seen.settings.SEEN_OAUTH_CLIENT_SECRET: credentials belong in the partner secret',
    );
    expect(() => withSeen({ SEEN_OAUTH_TOKEN_URL: 'http://next.seen.io/oauth2/token' })).toThrow('must be an https:// URL');
  });

  it.each(['mailchimp', 'seeen'])('refuses a %s section: only partners of the catalogue exist', (id) => {
    const error = (() => {
      try {
        parseBridgeConfig({ ...minimalInput, partners: { seen: { enabled: true }, [id]: { enabled: true } } });
      } catch (caught) {
        return caught;
      }
      throw new Error('expected the configuration to be refused');
    })();

    expect(error).toBeInstanceOf(BridgeConfigError);
    expect(String(error)).toContain(id);
    expect(catalogue.partners.map((partner) => partner.id)).not.toContain(id);
  });

  it.each([
    ['expiry of 0 days', { expireAfterDays: 0 }, 'imports.expireAfterDays'],
    ['an unknown option', { expireAfterDay: 7 }, 'expireAfterDay'],
  ])('rejects imports with %s', (_name, imports, expected) => {
    expect(() => parseBridgeConfig({ ...minimalInput, imports })).toThrow(expected);
  });

  it('rejects a Braze endpoint that is not https', () => {
    expect(() => parseBridgeConfig({ braze: { settings: { BRAZE_REST_ENDPOINT: 'http://rest.iad-01.braze.com' } } })).toThrow(
      /braze\.settings\.BRAZE_REST_ENDPOINT: must be an https:\/\/ URL/,
    );
  });

  it.each([
    ['no braze section', {}],
    ['a braze section without settings', { braze: {} }],
    ['braze settings without the endpoint', { braze: { settings: { BRAZE_MAX_OBJECTS_PER_REQUEST: 50 } } }],
  ])('requires the Braze endpoint: %s', (_name, input) => {
    expect(() => parseBridgeConfig(input)).toThrow(/braze\.settings\.BRAZE_REST_ENDPOINT: is required/);
  });

  it.each([
    [
      'more objects per call than Braze allows',
      { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com', BRAZE_MAX_OBJECTS_PER_REQUEST: 76 },
      'braze.settings.BRAZE_MAX_OBJECTS_PER_REQUEST',
    ],
    [
      'a Braze API key as a setting',
      { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com', BRAZE_API_KEY: 'abc' },
      'credentials belong in the partner secret',
    ],
  ])('rejects braze settings with %s', (_name, settings, expected) => {
    expect(() => parseBridgeConfig({ braze: { settings } })).toThrow(expected);
  });

  it('rejects the former Braze keys, outside settings', () => {
    expect(() =>
      parseBridgeConfig({ braze: { restEndpoint: 'https://rest.iad-01.braze.com', settings: { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com' } } }),
    ).toThrow('restEndpoint');
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

    expect(plan.flows.map((f) => f.id)).toEqual(ingressFlows.filter((f) => f.source === 'seen').map((f) => f.id));
    expect(plan.queues.map((q) => q.id).sort()).toEqual(['braze-track', 'seen-data', 'seen-receivers']);
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

    expect(plan.flows.map((f) => f.id)).toEqual(ingressFlows.filter((f) => f.source === 'lytics').map((f) => f.id));
    expect(plan.flows.map((f) => f.id)).toEqual(['lytics-audiences', 'lytics-users']);
    expect(plan.queues.map((q) => q.id).sort()).toEqual([...new Set(plan.flows.map((f) => f.queue))].sort());
    // Audience exports are backfills: they feed the bulk Braze lane, never the realtime one.
    expect(plan.queues.map((q) => q.id).sort()).toEqual(['braze-track-bulk', 'lytics-users']);
    expect(plan.jobs.map((j) => j.id)).toEqual(uploadJobs.filter((j) => j.destination === 'lytics').map((j) => j.id));
    expect(plan.jobs.map((j) => j.id)).toContain('lytics-csv-import');
    expect(plan.scheduledJobs).toEqual([]);
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
    expect(plan.jobs).toHaveLength(uploadJobs.length);
    expect(plan.scheduledJobs).toHaveLength(scheduledJobs.length);
    expect(scheduledJobs.length).toBeGreaterThan(0);
  });

  describe('refuses jobs that could not share the imports bucket', () => {
    const job = uploadJobs[0]!;
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

      expect(planDeployment(config, withJobs(otherPrefix, otherSuffix)).jobs).toHaveLength(uploadJobs.length + 2);
    });
  });

  describe('scheduled jobs', () => {
    const sync = scheduledJobs.find((job) => job.id === 'odp-segment-sync')!;
    const withOdp = (settings: Record<string, string> = {}, others: Record<string, { enabled: boolean }> = {}) =>
      parseBridgeConfig({ ...minimalInput, partners: { ...others, odp: { enabled: true, settings } } });
    const withScheduled = (...extra: ScheduledJob[]) => ({ ...catalogue, jobs: [...catalogue.jobs, ...extra] });

    it('deploys a scheduled job apart from the upload jobs when its owner is on, with the secrets of every partner it reads', () => {
      const plan = planDeployment(withOdp(), catalogue);

      expect(plan.scheduledJobs.map((j) => j.id)).toEqual(['odp-segment-sync']);
      expect(plan.jobs).toEqual([]);
      expect(plan.owners).toEqual(expect.arrayContaining(['odp', ...(sync.alsoReads ?? [])]));
    });

    it('deploys none when its owner is off', () => {
      expect(planDeployment(parseBridgeConfig(minimalInput), catalogue).scheduledJobs).toEqual([]);
      expect(planDeployment(parseBridgeConfig({ ...minimalInput, partners: { odp: { enabled: false } } }), catalogue).scheduledJobs).toEqual([]);
    });

    it('requires every partner it also reads to be deployed, naming the section to enable', () => {
      const readsLytics = { ...sync, id: 'reads-lytics', alsoReads: ['braze', 'lytics'] };

      expect(() => planDeployment(withOdp(), withScheduled(readsLytics))).toThrow(BridgeConfigError);
      expect(() => planDeployment(withOdp(), withScheduled(readsLytics))).toThrow(
        "job reads-lytics reads lytics's settings and secret; enable partners.lytics",
      );
      const plan = planDeployment(withOdp({}, { lytics: { enabled: true } }), withScheduled(readsLytics));
      expect(plan.scheduledJobs.map((j) => j.id)).toContain('reads-lytics');
      expect(plan.owners).toContain('lytics');
      expect(() => planDeployment(withOdp(), withScheduled({ ...sync, id: 'reads-nobody', alsoReads: ['nobody'] }))).toThrow('reads unknown partner nobody');
    });

    it('refuses a scheduled job reusing a queue or job id', () => {
      expect(() => planDeployment(withOdp(), withScheduled({ ...sync, id: 'odp-events' }))).toThrow('id of a queue');
      expect(() => planDeployment(withOdp(), withScheduled({ ...sync }))).toThrow('two jobs named odp-segment-sync');
    });

    it('runs on the schedule setting as deployed: the schema default, else the configured value', () => {
      expect(scheduleExpression(withOdp(), sync)).toBe('cron(0 2 * * ? *)');
      expect(scheduleExpression(withOdp({ ODP_SYNC_SCHEDULE: 'rate(2 days)' }), sync)).toBe('rate(2 days)');
    });

    it.each([
      ['5 cron fields', 'cron(0 2 * * *)', 'takes 6 fields'],
      ['7 cron fields', 'cron(0 2 * * ? * *)', 'takes 6 fields'],
      ['both days given', 'cron(0 2 * * * *)', 'exactly one of day-of-month'],
      ['neither day given', 'cron(0 2 ? * ? *)', 'exactly one of day-of-month'],
      ['a character EventBridge refuses', 'cron(0 2 * * ? $)', 'holds a character'],
      ['a rate in seconds', 'rate(30 seconds)', 'minute(s), hour(s) or day(s)'],
      ['a rate of zero', 'rate(0 hours)', 'positive whole number'],
      ['a plural rate of 1', 'rate(1 hours)', 'rate(1 hour), singular'],
      ['a singular rate of 2', 'rate(2 day)', 'rate(2 days), plural'],
      ['a rate without a value', 'rate( hours)', 'positive whole number'],
    ])('refuses %s, naming the setting', (_name, expression, expected) => {
      const config = withOdp({ ODP_SYNC_SCHEDULE: expression });

      expect(() => planDeployment(config, catalogue)).toThrow(BridgeConfigError);
      expect(() => planDeployment(config, catalogue)).toThrow(
        `partners.odp.settings.ODP_SYNC_SCHEDULE: ${JSON.stringify(expression)} is not an EventBridge schedule expression`,
      );
      expect(() => planDeployment(config, catalogue)).toThrow(expected);
    });

    it('refuses what is neither cron nor rate already when the configuration is read, naming the setting', () => {
      expect(() => withOdp({ ODP_SYNC_SCHEDULE: 'at(2025-01-01T00:00:00)' })).toThrow(/partners\.odp\.settings\.ODP_SYNC_SCHEDULE/);
      expect(scheduleProblem('at(2025-01-01T00:00:00)')).toBe('must be cron(...) or rate(...)');
    });

    it.each([
      'cron(0 2 * * ? *)',
      'cron(15 */6 ? * MON-FRI *)',
      'cron(0 3 L * ? 2030)',
      'cron(0 1 ? * 2#1 *)',
      'rate(1 minute)',
      'rate(12 hours)',
      'rate(1 day)',
      'rate(7 days)',
    ])('accepts %s', (expression) => {
      expect(scheduleProblem(expression)).toBeUndefined();
      if (expression.startsWith('cron') || /day/.test(expression)) {
        expect(planDeployment(withOdp({ ODP_SYNC_SCHEDULE: expression }), catalogue).scheduledJobs).toHaveLength(1);
      }
    });

    it.each(['rate(1 minute)', 'rate(12 hours)', 'rate(20 hours)'])('refuses %s for a job whose run may last 20 hours: runs would overlap', (expression) => {
      expect(() => planDeployment(withOdp({ ODP_SYNC_SCHEDULE: expression }), catalogue)).toThrow(
        `partners.odp.settings.ODP_SYNC_SCHEDULE: ${JSON.stringify(expression)} is shorter than a run may last ` +
          `(20 hours, job odp-segment-sync): runs would overlap`,
      );
    });
  });

  describe('refuses a SEEN drain schedule the drain could not keep', () => {
    const withSeen = (settings: Record<string, number>) => parseBridgeConfig({ ...minimalInput, partners: { seen: { enabled: true, settings } } });

    it.each([
      [
        'an interval that is not whole minutes',
        { SEEN_DRAIN_INTERVAL_SECONDS: 90 },
        'partners.seen.settings.SEEN_DRAIN_INTERVAL_SECONDS: must be a multiple of 60',
      ],
      ['an interval under a minute', { SEEN_DRAIN_INTERVAL_SECONDS: 30 }, 'partners.seen.settings.SEEN_DRAIN_INTERVAL_SECONDS'],
      ['an interval over an hour', { SEEN_DRAIN_INTERVAL_SECONDS: 7200 }, 'partners.seen.settings.SEEN_DRAIN_INTERVAL_SECONDS'],
    ])('with %s, naming the setting', (_name, settings, expected) => {
      const config = withSeen(settings);

      expect(() => planDeployment(config, catalogue)).toThrow(BridgeConfigError);
      expect(() => planDeployment(config, catalogue)).toThrow(expected);
    });

    it('but accepts a slower drain with a budget that leaves a call per run', () => {
      expect(() => planDeployment(withSeen({ SEEN_DRAIN_INTERVAL_SECONDS: 600, SEEN_MAX_CALLS_PER_HOUR: 10 }), catalogue)).not.toThrow();
    });

    it('and a budget under one call per run (3 an hour at a run a minute): the runs share it through the call ledger', () => {
      expect(() => planDeployment(withSeen({ SEEN_DRAIN_INTERVAL_SECONDS: 60, SEEN_MAX_CALLS_PER_HOUR: 3 }), catalogue)).not.toThrow();
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
    expect(inboundSecretIdVariableName('seen')).toBe('SEEN_INBOUND_SECRET_ID');
    expect(inboundSecretIdVariableName('movable-ink')).toBe('MOVABLE_INK_INBOUND_SECRET_ID');
    for (const owner of ['braze', 'seen', 'lytics', 'movable-ink']) {
      expect(secretIdVariableName(owner)).toBe(secretIdVariable(owner));
      expect(inboundSecretIdVariableName(owner)).toBe(inboundSecretIdVariable(owner));
    }
  });

  it('turns SEEN settings into the variables its functions read', () => {
    const config = parseBridgeConfig(fullInput);

    const settings = ownerSettings(config, 'seen');

    expect(settings).toEqual({
      SEEN_API_URL: 'https://api.staging.seen.io',
      SEEN_MAX_CALLS_PER_HOUR: '600',
      SEEN_DRAIN_INTERVAL_SECONDS: '120',
      SEEN_CAMPAIGNS: JSON.stringify(fullSeenCampaigns),
    });
    expect(loadSettings(seenSettings, settings)).toMatchObject({
      SEEN_MAX_CALLS_PER_HOUR: 600,
      SEEN_DRAIN_INTERVAL_SECONDS: 120,
      SEEN_MAX_RECEIVERS_PER_CALL: 100,
    });
    expect(ownerSettings(config, 'braze')).toEqual({ BRAZE_REST_ENDPOINT: 'https://rest.fra-01.braze.eu', BRAZE_MAX_OBJECTS_PER_REQUEST: '50' });
  });

  it('deploys the SEEN production URL when none is configured', () => {
    expect(ownerSettings(parseBridgeConfig(minimalInput), 'seen')).toEqual({ SEEN_API_URL: 'https://api.seen.io' });
  });

  it('turns Lytics settings into the variables its functions read, which apply its defaults', () => {
    const settings = ownerSettings(parseBridgeConfig(lyticsInput), 'lytics');

    // The deploy defaults (production URLs); the rest the functions' own schema fills.
    expect(settings).toEqual({ LYTICS_API_URL: 'https://api.lytics.io', LYTICS_BULK_API_URL: 'https://bulk.lytics.io' });
    expect(loadSettings(lyticsSettings, settings)).toEqual({
      LYTICS_API_URL: 'https://api.lytics.io',
      LYTICS_BULK_API_URL: 'https://bulk.lytics.io',
      LYTICS_USERS_STREAM: 'braze_users',
      LYTICS_MAX_EVENTS_PER_REQUEST: 500,
      LYTICS_CSV_STREAM: 'braze_segment_export',
      LYTICS_CSV_ROWS_PER_REQUEST: 50000,
    });
    // What the checks see is what the functions will use.
    expect(deployedSettings(parseBridgeConfig(lyticsInput), 'lytics')).toEqual(
      Object.fromEntries(Object.entries(loadSettings(lyticsSettings, settings)).map(([name, value]) => [name, String(value)])),
    );
    expect(Object.keys(settings).every((name) => settingNames(lyticsSettings).includes(name))).toBe(true);
  });

  it('follows configured Lytics settings over the deploy defaults', () => {
    expect(ownerSettings(parseBridgeConfig(fullInput), 'lytics')).toEqual({
      LYTICS_API_URL: 'https://api.lytics.io',
      LYTICS_BULK_API_URL: 'https://bulk.eu.lytics.io',
      LYTICS_USERS_STREAM: 'braze_users_eu',
      LYTICS_CSV_ROWS_PER_REQUEST: '20000',
    });
  });

  it('refuses settings that would overflow the 4 KB Lambda environment', () => {
    const campaigns = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`campaign-${i}`, { attributes: { landing_page_url: `landing_page_url_of_campaign_${i}` } }]),
    );
    const input: BridgeConfigInput = { ...minimalInput, partners: { seen: { enabled: true, settings: { SEEN_CAMPAIGNS: { campaigns } } } } };
    const config = parseBridgeConfig(input);

    expect(() => ownerSettings(config, 'seen')).toThrow(/partners\.seen: settings take \d+ bytes of Lambda environment/);
  });

  it('knows no settings of a partner outside the catalogue', () => {
    expect(() => ownerSettings(parseBridgeConfig(minimalInput), 'nimbus')).toThrow('unknown partner nimbus');
  });
});
