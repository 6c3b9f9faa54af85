import { brazeSettings } from '../../../functions/braze/settings';
import { loadConfig } from '../../../functions/core/config';
import { ConfigError } from '../../../functions/core/errors';
import { loadSettings, type SettingsSchema } from '../../../functions/core/settings';
import { seenSettings } from '../../../functions/seen/settings';
import { errorThrownBy } from '../helpers';

/** The message of the ConfigError loading `env` must fail with. */
const configErrorOf = (env: Record<string, string | undefined>): string => errorThrownBy(ConfigError, () => loadConfig(env)).message;
/** The message of the ConfigError reading a partner's settings out of `env` must fail with. */
const settingsErrorOf = (schema: SettingsSchema, env: Record<string, string | undefined>): string =>
  errorThrownBy(ConfigError, () => loadSettings(schema, env)).message;

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({ LOG_LEVEL: 'INFO', MAX_BODY_BYTES: 5_000_000, env: {} });
    expect(config.QUEUE_URL).toBeUndefined();
    expect(config.DLQ_URL).toBeUndefined();
    expect(config.INBOUND_TOKEN).toBeUndefined();
  });

  it('reads numbers from their string form', () => {
    expect(loadConfig({ MAX_BODY_BYTES: '1000' }).MAX_BODY_BYTES).toBe(1000);
  });

  it('treats an empty variable as unset, and leaves it out of env', () => {
    const config = loadConfig({ MAX_BODY_BYTES: '', QUEUE_URL: '', SEEN_API_URL: '' });

    expect(config.MAX_BODY_BYTES).toBe(5_000_000);
    expect(config.QUEUE_URL).toBeUndefined();
    expect(config.env).toEqual({});
  });

  it('keeps the URLs and settings it is given', () => {
    const config = loadConfig({
      QUEUE_URL: 'http://localhost:9324/queue/braze-track',
      DLQ_URL: 'http://localhost:9324/queue/braze-track-dlq',
      INBOUND_TOKEN: 'local-token',
      LOG_LEVEL: 'DEBUG',
    });

    expect(config).toMatchObject({
      QUEUE_URL: 'http://localhost:9324/queue/braze-track',
      DLQ_URL: 'http://localhost:9324/queue/braze-track-dlq',
      INBOUND_TOKEN: 'local-token',
      LOG_LEVEL: 'DEBUG',
    });
  });

  it('keeps variables it does not know in env only, where partner settings are read from', () => {
    const config = loadConfig({ PATH: '/usr/bin', BRAZE_REST_ENDPOINT: 'https://rest.fra-02.braze.eu', UNSET: undefined });

    expect(config).not.toHaveProperty('PATH');
    expect(config).not.toHaveProperty('BRAZE_REST_ENDPOINT');
    expect(config.env).toEqual({ PATH: '/usr/bin', BRAZE_REST_ENDPOINT: 'https://rest.fra-02.braze.eu' });
  });

  it('leaves partner settings to their own schema: a bad one does not fail every function at cold start', () => {
    expect(() => loadConfig({ BRAZE_MAX_OBJECTS_PER_REQUEST: '76', SEEN_MAX_CALLS_PER_HOUR: 'x' })).not.toThrow();
  });

  it.each([
    ['MAX_BODY_BYTES', 'lots'],
    ['MAX_BODY_BYTES', '0'],
    ['MAX_BODY_BYTES', '7.5'],
    ['LOG_LEVEL', 'LOUD'],
  ])('fails fast with a ConfigError naming %s when it is %p', (name, value) => {
    const message = configErrorOf({ [name]: value });

    expect(message).toContain(name);
  });

  it('names every invalid variable at once', () => {
    const message = configErrorOf({ MAX_BODY_BYTES: 'lots', LOG_LEVEL: 'LOUD' });

    expect(message).toContain('MAX_BODY_BYTES');
    expect(message).toContain('LOG_LEVEL');
  });

  it('does not repeat the invalid value in its message', () => {
    const message = configErrorOf({ LOG_LEVEL: 'key-abc123' });

    expect(message).not.toContain('abc123');
  });
});

describe('partner settings (loadSettings with a partner schema)', () => {
  it('applies the documented defaults to an empty environment', () => {
    expect(loadSettings(brazeSettings, {})).toEqual({
      BRAZE_MAX_OBJECTS_PER_REQUEST: 75,
      BRAZE_EMAIL_PRIORITIZATION: '["identified","most_recently_updated"]',
    });
    expect(loadSettings(seenSettings, {})).toEqual({
      SEEN_API_VERSION: 1,
      SEEN_MAX_REQUESTS_PER_10S: 100,
      SEEN_MAX_CALLS_PER_HOUR: 1000,
      SEEN_BUDGET_WINDOW_SECONDS: 3600,
      SEEN_DRAIN_INTERVAL_SECONDS: 60,
      SEEN_MAX_RECEIVERS_PER_CALL: 100,
    });
    expect(loadSettings(brazeSettings, {}).BRAZE_REST_ENDPOINT).toBeUndefined();
    expect(loadSettings(seenSettings, {}).SEEN_CAMPAIGNS).toBeUndefined();
  });

  it('reads numbers from their string form', () => {
    const env = { BRAZE_MAX_OBJECTS_PER_REQUEST: '50', SEEN_MAX_CALLS_PER_HOUR: '600' };

    expect(loadSettings(brazeSettings, env).BRAZE_MAX_OBJECTS_PER_REQUEST).toBe(50);
    expect(loadSettings(seenSettings, env).SEEN_MAX_CALLS_PER_HOUR).toBe(600);
  });

  it('treats an empty variable as unset', () => {
    expect(loadSettings(brazeSettings, { BRAZE_MAX_OBJECTS_PER_REQUEST: '' }).BRAZE_MAX_OBJECTS_PER_REQUEST).toBe(75);
    expect(loadSettings(seenSettings, { SEEN_API_URL: '' }).SEEN_API_URL).toBeUndefined();
  });

  it('keeps the URLs and settings it is given', () => {
    const settings = loadSettings(brazeSettings, { BRAZE_REST_ENDPOINT: 'https://rest.fra-02.braze.eu', BRAZE_MAX_OBJECTS_PER_REQUEST: '10' });

    expect(settings).toEqual({
      BRAZE_REST_ENDPOINT: 'https://rest.fra-02.braze.eu',
      BRAZE_MAX_OBJECTS_PER_REQUEST: 10,
      BRAZE_EMAIL_PRIORITIZATION: '["identified","most_recently_updated"]',
    });
  });

  it('reads only the variables its schema declares, so one partner never fails on another partner setting', () => {
    const settings = loadSettings(brazeSettings, { PATH: '/usr/bin', SEEN_MAX_CALLS_PER_HOUR: 'a thousand', QUEUE_URL: 'http://localhost/q' });

    expect(settings).toEqual({ BRAZE_MAX_OBJECTS_PER_REQUEST: 75, BRAZE_EMAIL_PRIORITIZATION: '["identified","most_recently_updated"]' });
  });

  it.each([
    ['BRAZE_MAX_OBJECTS_PER_REQUEST', '76', brazeSettings],
    ['BRAZE_MAX_OBJECTS_PER_REQUEST', '0', brazeSettings],
    ['BRAZE_MAX_OBJECTS_PER_REQUEST', '7.5', brazeSettings],
    ['BRAZE_REST_ENDPOINT', 'rest dot braze', brazeSettings],
    ['SEEN_MAX_CALLS_PER_HOUR', 'a thousand', seenSettings],
    ['SEEN_MAX_CALLS_PER_HOUR', '-1', seenSettings],
    ['SEEN_CAMPAIGNS', '{"campaigns": {"x": {"attributes": {"a": "not valid!"}}}}', seenSettings],
  ] as const)('fails fast with a ConfigError naming %s when it is %p', (name, value, schema) => {
    const message = settingsErrorOf(schema, { [name]: value });

    expect(message).toContain(name);
  });

  it('names every invalid setting at once', () => {
    const message = settingsErrorOf(seenSettings, { SEEN_MAX_CALLS_PER_HOUR: 'x', SEEN_MAX_RECEIVERS_PER_CALL: '0' });

    expect(message).toContain('SEEN_MAX_CALLS_PER_HOUR');
    expect(message).toContain('SEEN_MAX_RECEIVERS_PER_CALL');
  });

  it('does not repeat the invalid value in its message', () => {
    const message = settingsErrorOf(brazeSettings, { BRAZE_REST_ENDPOINT: 'not-a-url-with-key-abc123' });

    expect(message).toContain('BRAZE_REST_ENDPOINT');
    expect(message).not.toContain('abc123');
  });
});
