import { loadConfig } from '../../../functions/core/config';
import { ConfigError } from '../../../functions/core/errors';
import { errorThrownBy } from '../helpers';

/** The message of the ConfigError loading `env` must fail with. */
const configErrorOf = (env: Record<string, string | undefined>): string => errorThrownBy(ConfigError, () => loadConfig(env)).message;

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({
      LOG_LEVEL: 'INFO',
      MAX_BODY_BYTES: 5_000_000,
      BRAZE_MAX_OBJECTS_PER_REQUEST: 75,
      BRAZE_DELIVERY_CONCURRENCY: 4,
      SEEN_MAX_CALLS_PER_HOUR: 1000,
      SEEN_BUDGET_WINDOW_SECONDS: 3600,
      SEEN_DRAIN_INTERVAL_SECONDS: 60,
      SEEN_MAX_RECEIVERS_PER_CALL: 100,
    });
    expect(config.BRAZE_REST_ENDPOINT).toBeUndefined();
    expect(config.SEEN_CAMPAIGNS).toBeUndefined();
  });

  it('reads numbers from their string form', () => {
    const config = loadConfig({ BRAZE_MAX_OBJECTS_PER_REQUEST: '50', SEEN_MAX_CALLS_PER_HOUR: '600' });

    expect(config.BRAZE_MAX_OBJECTS_PER_REQUEST).toBe(50);
    expect(config.SEEN_MAX_CALLS_PER_HOUR).toBe(600);
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ BRAZE_MAX_OBJECTS_PER_REQUEST: '', SEEN_API_URL: '' });

    expect(config.BRAZE_MAX_OBJECTS_PER_REQUEST).toBe(75);
    expect(config.SEEN_API_URL).toBeUndefined();
  });

  it('keeps the URLs and settings it is given', () => {
    const config = loadConfig({ BRAZE_REST_ENDPOINT: 'https://rest.fra-02.braze.eu', QUEUE_URL: 'http://localhost:9324/queue/braze-track', LOG_LEVEL: 'DEBUG' });

    expect(config).toMatchObject({ BRAZE_REST_ENDPOINT: 'https://rest.fra-02.braze.eu', QUEUE_URL: 'http://localhost:9324/queue/braze-track', LOG_LEVEL: 'DEBUG' });
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root' })).not.toHaveProperty('PATH');
  });

  it.each([
    ['BRAZE_MAX_OBJECTS_PER_REQUEST', '76'],
    ['BRAZE_MAX_OBJECTS_PER_REQUEST', '0'],
    ['BRAZE_MAX_OBJECTS_PER_REQUEST', '7.5'],
    ['SEEN_MAX_CALLS_PER_HOUR', 'a thousand'],
    ['SEEN_MAX_CALLS_PER_HOUR', '-1'],
    ['MAX_BODY_BYTES', 'lots'],
    ['LOG_LEVEL', 'LOUD'],
    ['BRAZE_REST_ENDPOINT', 'rest dot braze'],
  ])('fails fast with a ConfigError naming %s when it is %p', (name, value) => {
    const message = configErrorOf({ [name]: value });

    expect(message).toContain(name);
  });

  it('names every invalid variable at once', () => {
    const message = configErrorOf({ BRAZE_MAX_OBJECTS_PER_REQUEST: '100', SEEN_MAX_CALLS_PER_HOUR: 'x' });

    expect(message).toContain('BRAZE_MAX_OBJECTS_PER_REQUEST');
    expect(message).toContain('SEEN_MAX_CALLS_PER_HOUR');
  });

  it('does not repeat the invalid value in its message', () => {
    const message = configErrorOf({ BRAZE_REST_ENDPOINT: 'not-a-url-with-key-abc123' });

    expect(message).not.toContain('abc123');
  });
});
