import { callsPerRun } from '../../../functions/core/budget';
import { ConfigError, ValidationError } from '../../../functions/core/errors';
import { validate } from '../../../functions/core/validation';
import { type SeenCallback, seenCallbackSchema, seenDataMessageSchema, seenQueueMessageSchema } from '../../../functions/seen/schemas';
import {
  callbackToTrackItems,
  DEFAULT_ATTRIBUTE_MAP,
  hostAllowed,
  parseAllowedHosts,
  parseCampaignConfig,
  parseProjects,
  projectEndpoint,
  receiversToMessages,
} from '../../../functions/seen/transform';
import { errorThrownBy, readFixture } from '../helpers';

/** The seed's callback example, as the ingress sees it once validated. */
const seedCallback = (): SeenCallback => validate(seenCallbackSchema, readFixture('seen/callback.json'));
const withFields = (fields: Record<string, unknown>): SeenCallback => validate(seenCallbackSchema, { ...seedCallback(), ...fields });

const winbackConfig = JSON.stringify({
  campaigns: {
    winback: { attributes: { landing_page_url: 'winback_landing_page_url', video_url: 'winback_video_url' } },
  },
});

describe('callbackToTrackItems', () => {
  it('turns the seed callback into exactly the attribute object of the seed transformation', () => {
    const callback = seedCallback();

    const items = callbackToTrackItems(callback, parseCampaignConfig(undefined));

    expect(items).toStrictEqual([
      {
        kind: 'attributes',
        object: {
          braze_id: '101',
          _update_existing_only: true,
          landing_page_url: 'your.subdomain.com/v/12345',
          email_thumbnail_url: 'https://motions.seen.io/298abdcf-1f0f-46e7-9c26-a35b4c1e83cc/d3c1dffdf063986ad521a63e3e68fd7d1100c90a/email_thumbnail.jpg',
        },
      },
    ]);
  });

  it('sends nothing else: no video_url, thumbnail_url, campaign_slug or customer_id', () => {
    const [item] = callbackToTrackItems(seedCallback(), {});

    expect(Object.keys(item?.object ?? {}).sort()).toEqual(['_update_existing_only', 'braze_id', 'email_thumbnail_url', 'landing_page_url']);
  });

  it('maps the fields a campaign configures, under the names it chose', () => {
    const config = parseCampaignConfig(winbackConfig);

    const items = callbackToTrackItems(withFields({ campaign_slug: 'winback' }), config);

    expect(items).toStrictEqual([
      {
        kind: 'attributes',
        object: {
          braze_id: '101',
          _update_existing_only: true,
          winback_landing_page_url: 'your.subdomain.com/v/12345',
          winback_video_url: 'https://motions.seen.io/298abdcf-1f0f-46e7-9c26-a35b4c1e83cc/d3c1dffdf063986ad521a63e3e68fd7d1100c90a/output.m3u8',
        },
      },
    ]);
  });

  it('keeps the default mapping for a campaign the configuration does not list', () => {
    const config = parseCampaignConfig(winbackConfig);

    const [item] = callbackToTrackItems(seedCallback(), config);

    expect(item?.object).toHaveProperty('landing_page_url');
    expect(item?.object).not.toHaveProperty('winback_video_url');
  });

  it('uses a configured default mapping for campaigns without their own', () => {
    const config = parseCampaignConfig(JSON.stringify({ default: { attributes: { thumbnail_url: 'seen_thumbnail_url' } } }));

    const [item] = callbackToTrackItems(seedCallback(), config);

    expect(item?.object).toStrictEqual({
      braze_id: '101',
      _update_existing_only: true,
      seen_thumbnail_url: 'https://motions.seen.io/298abdcf-1f0f-46e7-9c26-a35b4c1e83cc/d3c1dffdf063986ad521a63e3e68fd7d1100c90a/thumbnail.jpg',
    });
  });

  it('maps an unknown extra callback field when a campaign asks for it', () => {
    const config = parseCampaignConfig(
      JSON.stringify({ campaigns: { onboarding: { attributes: { ...DEFAULT_ATTRIBUTE_MAP, video_duration_s: 'seen_video_duration' } } } }),
    );

    const [item] = callbackToTrackItems(withFields({ video_duration_s: 42, render_id: 'r-9' }), config);

    expect(item?.object).toMatchObject({ seen_video_duration: 42, landing_page_url: 'your.subdomain.com/v/12345' });
    expect(item?.object).not.toHaveProperty('render_id');
  });

  it('refuses a callback missing a field its campaign maps, naming the field', () => {
    const { video_url: _dropped, ...rest } = seedCallback();
    const callback = validate(seenCallbackSchema, { ...rest, campaign_slug: 'winback' });

    const error = errorThrownBy(ValidationError, () => callbackToTrackItems(callback, parseCampaignConfig(winbackConfig)));

    expect(error.issues.map((issue) => issue.path)).toEqual(['video_url']);
    expect(error.message).toContain('video_url');
    expect(error.statusCode).toBe(400);
  });

  it('refuses the seed mapping when email_thumbnail_url is missing', () => {
    const { email_thumbnail_url: _dropped, ...rest } = seedCallback();

    const error = errorThrownBy(ValidationError, () => callbackToTrackItems(validate(seenCallbackSchema, rest), {}));

    expect(error.issues.map((issue) => issue.path)).toEqual(['email_thumbnail_url']);
  });

  it('treats an empty or null extra field as missing', () => {
    const config = parseCampaignConfig(JSON.stringify({ default: { attributes: { locale: 'seen_locale', tier: 'seen_tier' } } }));

    const error = errorThrownBy(ValidationError, () => callbackToTrackItems(withFields({ locale: '', tier: null }), config));

    expect(error.issues.map((issue) => issue.path)).toEqual(['locale', 'tier']);
  });
});

describe('parseCampaignConfig', () => {
  it('is empty (default mapping everywhere) when SEEN_CAMPAIGNS is unset or empty', () => {
    expect(parseCampaignConfig(undefined)).toEqual({});
    expect(parseCampaignConfig('')).toEqual({});
  });

  it('parses per-campaign attribute maps', () => {
    expect(parseCampaignConfig(winbackConfig).campaigns?.winback?.attributes).toEqual({
      landing_page_url: 'winback_landing_page_url',
      video_url: 'winback_video_url',
    });
  });

  it('throws a ConfigError naming SEEN_CAMPAIGNS when it is not JSON', () => {
    expect(() => parseCampaignConfig('{campaigns:')).toThrow(ConfigError);
    expect(() => parseCampaignConfig('{campaigns:')).toThrow('SEEN_CAMPAIGNS is not valid JSON');
  });

  it('throws a ConfigError naming the bad entry when an attribute name is invalid', () => {
    const bad = JSON.stringify({ campaigns: { winback: { attributes: { video_url: 'winback video url!' } } } });

    expect(() => parseCampaignConfig(bad)).toThrow(ConfigError);
    expect(() => parseCampaignConfig(bad)).toThrow('campaigns.winback.attributes.video_url');
  });

  it('throws a ConfigError when the shape is wrong', () => {
    expect(() => parseCampaignConfig('["winback"]')).toThrow(ConfigError);
    expect(() => parseCampaignConfig(JSON.stringify({ campaigns: { winback: { video_url: 'x' } } }))).toThrow(ConfigError);
  });
});

describe('callbackToTrackItems, SEEN API 2.0 and links', () => {
  const webhookNode = () => validate(seenCallbackSchema, (readFixture('seen/webhook-node-callback.json') as { body: unknown }).body);

  it("reads a 2.0 webhook node's id as customer_id and maps player_url and email_thumbnail_url by default", () => {
    const callback = webhookNode();

    expect(callbackToTrackItems(callback, {}, { version: 2 })).toStrictEqual([
      {
        kind: 'attributes',
        object: { braze_id: '101', _update_existing_only: true, player_url: callback.player_url, email_thumbnail_url: callback.email_thumbnail_url },
      },
    ]);
  });

  it('keeps the legacy defaults with version 1, so a 2.0 callback missing landing_page_url is refused naming it', () => {
    const error = errorThrownBy(ValidationError, () => callbackToTrackItems(webhookNode(), {}, { version: 1 }));

    expect(error.issues.map((issue) => issue.path)).toEqual(['landing_page_url']);
  });

  it('still maps per campaign with SEEN_CAMPAIGNS when the 2.0 callback names its campaign', () => {
    const config = parseCampaignConfig(JSON.stringify({ campaigns: { spring: { attributes: { player_url: 'spring_player' } } } }));

    const [item] = callbackToTrackItems(validate(seenCallbackSchema, { id: 7, campaign_slug: 'spring', player_url: 'https://player.seen.io/v/x' }), config, {
      version: 2,
    });

    expect(item?.object).toEqual({ braze_id: '7', _update_existing_only: true, spring_player: 'https://player.seen.io/v/x' });
  });

  it("refuses a link with a scheme other than https, naming the field; keeps SEEN's scheme-less example as sent", () => {
    for (const link of ['http://player.seen.io/v/x', 'javascript:alert(1)', 'data:text/html,hi']) {
      const error = errorThrownBy(ValidationError, () => callbackToTrackItems(withFields({ landing_page_url: link }), {}));
      expect(error.issues).toEqual([{ path: 'landing_page_url', message: 'a link must be https' }]);
    }
    expect(callbackToTrackItems(seedCallback(), {})[0]?.object.landing_page_url).toBe('your.subdomain.com/v/12345');
  });

  it('refuses a link to a host SEEN_ALLOWED_URL_HOSTS does not list, with or without a scheme', () => {
    const allowedHosts = parseAllowedHosts('*.seen.io, your.subdomain.com');

    expect(callbackToTrackItems(seedCallback(), {}, { allowedHosts })).toHaveLength(1);
    const error = errorThrownBy(ValidationError, () =>
      callbackToTrackItems(
        withFields({ landing_page_url: 'evil.example/v/1', email_thumbnail_url: 'https://seen.io.evil.example/t.jpg' }),
        {},
        { allowedHosts },
      ),
    );
    expect(error.issues.map((issue) => [issue.path, issue.message])).toEqual([
      ['landing_page_url', 'its host is not in SEEN_ALLOWED_URL_HOSTS'],
      ['email_thumbnail_url', 'its host is not in SEEN_ALLOWED_URL_HOSTS'],
    ]);
  });
});

describe('SEEN_ALLOWED_URL_HOSTS', () => {
  it('is any host when unset or blank', () => {
    expect(parseAllowedHosts(undefined)).toBeUndefined();
    expect(parseAllowedHosts('  ')).toBeUndefined();
  });

  it('matches a *. wildcard on any subdomain, never the bare domain or a look-alike', () => {
    const allowed = parseAllowedHosts('*.seen.io')!;

    expect(hostAllowed('motions.seen.io', allowed)).toBe(true);
    expect(hostAllowed('a.b.SEEN.io', allowed)).toBe(true);
    expect(hostAllowed('seen.io', allowed)).toBe(false);
    expect(hostAllowed('notseen.io', allowed)).toBe(false);
  });

  it('refuses an entry that is not a host, naming the setting', () => {
    expect(() => parseAllowedHosts('seen.io, https://x.example')).toThrow(/SEEN_ALLOWED_URL_HOSTS/);
  });
});

describe('projectEndpoint (SEEN 2.0 data and token URLs)', () => {
  const projects = parseProjects(JSON.stringify({ onboarding: 'https://next.seen.io/v1/projects/p-1/data' }));

  it("posts to the campaign's data URL and asks tokens of that origin's /oauth2/token", () => {
    expect(projectEndpoint('onboarding', { projects, apiUrl: 'https://api.seen.io' })).toEqual({
      dataUrl: 'https://next.seen.io/v1/projects/p-1/data',
      tokenUrl: 'https://next.seen.io/oauth2/token',
    });
  });

  it('uses SEEN_OAUTH_TOKEN_URL when it is set', () => {
    expect(projectEndpoint('onboarding', { projects, tokenUrl: 'https://auth.example/token' })?.tokenUrl).toBe('https://auth.example/token');
  });

  it('has no endpoint for a campaign the map leaves out, nor for any with no map in a deployment', () => {
    expect(projectEndpoint('winback', { projects })).toBeUndefined();
    expect(projectEndpoint('onboarding', { apiUrl: 'https://api.seen.io' })).toBeUndefined();
  });

  it("makes every slug a project of its own under a local SEEN_API_URL (npm start's sandbox), token beside it", () => {
    expect(projectEndpoint('winback', { apiUrl: 'http://127.0.0.1:4010/seen' })).toEqual({
      dataUrl: 'http://127.0.0.1:4010/seen/v1/projects/winback/data',
      tokenUrl: 'http://127.0.0.1:4010/seen/oauth2/token',
    });
  });

  it('refuses a SEEN_PROJECTS that is not JSON or not a map of https URLs, naming it', () => {
    expect(() => parseProjects('{onboarding: x}')).toThrow(/SEEN_PROJECTS is not valid JSON/);
    expect(() => parseProjects('{"onboarding": "next.seen.io/v1/projects/p/data"}')).toThrow(/SEEN_PROJECTS/);
  });
});

describe('receiversToMessages', () => {
  const seedBody = () => readFixture('seen/receivers.json') as Record<string, unknown>[];
  const legacy = (body: unknown) => receiversToMessages(body, { version: 1, campaign: 'onboarding', requestId: 'req-1' });
  const data = (body: unknown) => receiversToMessages(body, { version: 2, campaign: 'onboarding', requestId: 'req-2' });

  it('turns the seed webhook body into one legacy queue message per receiver, in order, each a valid message', () => {
    const batch = legacy(seedBody());

    expect(batch.rejected).toEqual([]);
    expect(batch.data).toEqual([]);
    expect(batch.legacy.map((message) => message.receivers)).toEqual(seedBody().map((receiver) => [receiver]));
    for (const message of batch.legacy) expect(validate(seenQueueMessageSchema, message)).toEqual(message);
  });

  it('refuses a receiver without first_name by its index and keeps the good one', () => {
    const batch = legacy([
      { customer_id: 'ok', first_name: 'Ada' },
      { customer_id: 'nameless', email: 'x@example.com' },
    ]);

    expect(batch.legacy.map((message) => message.receivers[0]?.customer_id)).toEqual(['ok']);
    expect(batch.rejected).toEqual([{ index: 1, issues: [expect.objectContaining({ path: '[1].first_name' })] }]);
  });

  it('names the field alone when the body is one receiver', () => {
    expect(legacy({ customer_id: 'c1' }).rejected).toEqual([{ index: 0, issues: [expect.objectContaining({ path: 'first_name' })] }]);
  });

  it('makes each 2.0 receiver one data item with id as a string and the other fields as sent', () => {
    const batch = data([{ id: 42, first_name: 'Ada', score: 1.5, tags: ['a'] }, { customer_id: 'c-7', first_name: 'Grace' }, { first_name: 'nobody' }]);

    expect(batch.data.map((message) => message.item)).toEqual([
      { id: '42', first_name: 'Ada', score: 1.5, tags: ['a'] },
      { id: 'c-7', first_name: 'Grace' },
    ]);
    expect(batch.rejected).toEqual([{ index: 2, issues: [expect.objectContaining({ path: '[2].id' })] }]);
    for (const message of batch.data) expect(validate(seenDataMessageSchema, message)).toEqual(message);
  });

  it('keeps customer_id beside an id, as sent', () => {
    expect(data({ id: 'x', customer_id: 9 }).data[0]?.item).toEqual({ id: 'x', customer_id: 9 });
  });
});

describe('callsPerRun', () => {
  it('allows 16 calls per minute run for SEEN 1,000 calls an hour', () => {
    expect(callsPerRun(1000, 3600, 60)).toBe(16);
  });

  it('allows no call per run when the budget is under one per run (the drain then makes one a run, within the call ledger)', () => {
    expect(callsPerRun(10, 3600, 60)).toBe(0);
  });

  it('keeps (ceil(W/P) + 2) runs within the budget, and uses it fully, for any budget, window and interval', () => {
    const budgets = [1, 10, 61, 62, 100, 999, 1000, 1001, 5000];
    const windows = [60, 600, 3600, 7200];
    const intervals = [1, 7, 30, 59, 60, 61, 300, 900, 3600];
    const violations: string[] = [];

    for (const max of budgets) {
      for (const window of windows) {
        for (const interval of intervals) {
          const perRun = callsPerRun(max, window, interval);
          const runsPerWindow = Math.ceil(window / interval) + 2;
          const withinBudget = Number.isInteger(perRun) && perRun >= 0 && runsPerWindow * perRun <= max;
          const usesBudget = runsPerWindow * (perRun + 1) > max;
          if (!withinBudget || !usesBudget) violations.push(`max ${max}, window ${window}, interval ${interval}: ${perRun} per run`);
        }
      }
    }

    expect(violations).toEqual([]);
  });
});

describe('SEEN_CAMPAIGNS reserved names', () => {
  it('refuses a mapping that would overwrite the user identifier', () => {
    const json = JSON.stringify({ campaigns: { winback: { attributes: { video_url: 'braze_id' } } } });

    expect(() => parseCampaignConfig(json)).toThrow(/braze_id|campaigns\.winback\.attributes\.video_url/);
  });
});
