import { callsPerRun } from '../../../functions/core/budget';
import { ConfigError, ValidationError } from '../../../functions/core/errors';
import { validate } from '../../../functions/core/validation';
import { type SeenCallback, seenCallbackSchema, seenQueueMessageSchema, seenReceiversSchema } from '../../../functions/seen/schemas';
import { callbackToTrackItems, DEFAULT_ATTRIBUTE_MAP, parseCampaignConfig, receiversToMessages } from '../../../functions/seen/transform';
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
          email_thumbnail_url:
            'https://motions.seen.io/298abdcf-1f0f-46e7-9c26-a35b4c1e83cc/d3c1dffdf063986ad521a63e3e68fd7d1100c90a/email_thumbnail.jpg',
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
    const config = parseCampaignConfig(JSON.stringify({ campaigns: { onboarding: { attributes: { ...DEFAULT_ATTRIBUTE_MAP, video_duration_s: 'seen_video_duration' } } } }));

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

describe('receiversToMessages', () => {
  const receivers = (count: number) => validate(seenReceiversSchema, Array.from({ length: count }, (_, i) => ({ customer_id: `c${i}`, email: `u${i}@example.com` })));

  it('turns the seed webhook body into one queue message for its campaign', () => {
    const body = validate(seenReceiversSchema, readFixture('seen/receivers.json'));

    const messages = receiversToMessages('onboarding', body, 100, 'req-1');

    expect(messages).toEqual([{ v: 1, flow: 'seen-receivers', requestId: 'req-1', campaign: 'onboarding', receivers: body }]);
  });

  it('splits 250 receivers at 100 per call into 100, 100 and 50, in order, each a valid queue message', () => {
    const list = receivers(250);

    const messages = receiversToMessages('winback', list, 100, 'req-2');

    expect(messages.map((message) => message.receivers.length)).toEqual([100, 100, 50]);
    expect(messages.flatMap((message) => message.receivers)).toEqual(list);
    for (const message of messages) expect(validate(seenQueueMessageSchema, message)).toEqual(message);
  });

  it('keeps exactly one call worth of receivers in one message', () => {
    expect(receiversToMessages('winback', receivers(100), 100, 'req-3')).toHaveLength(1);
  });

  it('makes 10,000 receivers into 100 messages of 100', () => {
    const messages = receiversToMessages('winback', receivers(10_000), 100, 'req-4');

    expect(messages).toHaveLength(100);
    expect(messages.every((message) => message.receivers.length === 100 && message.campaign === 'winback')).toBe(true);
  });
});

describe('callsPerRun', () => {
  it('allows 16 calls per minute run for SEEN 1,000 calls an hour', () => {
    expect(callsPerRun(1000, 3600, 60)).toBe(16);
  });

  it('allows no call when the budget is too small for the interval', () => {
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
