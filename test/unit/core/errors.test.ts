import {
  AuthenticationError,
  BridgeError,
  ConfigError,
  PayloadTooLargeError,
  PermanentDeliveryError,
  RetryableDeliveryError,
  ValidationError,
} from '../../../functions/core/errors';

describe('errors', () => {
  it.each([
    { label: 'a ValidationError', error: new ValidationError('bad field'), statusCode: 400, expose: true },
    { label: 'an AuthenticationError', error: new AuthenticationError('missing credentials'), statusCode: 401, expose: true },
    { label: 'a PayloadTooLargeError', error: new PayloadTooLargeError('too big'), statusCode: 413, expose: true },
    { label: 'a ConfigError', error: new ConfigError('X is not set'), statusCode: 500, expose: false },
    { label: 'a RetryableDeliveryError', error: new RetryableDeliveryError('503', 503), statusCode: 500, expose: false },
    { label: 'a PermanentDeliveryError', error: new PermanentDeliveryError('400', 400), statusCode: 500, expose: false },
  ])('$label is answered with $statusCode; its message is shown to the caller: $expose', ({ error, statusCode, expose }) => {
    expect(error).toBeInstanceOf(BridgeError);
    expect(error.statusCode).toBe(statusCode);
    expect(error.expose).toBe(expose);
  });

  it('names each error after its class', () => {
    expect(new ValidationError('x').name).toBe('ValidationError');
    expect(new RetryableDeliveryError('x').name).toBe('RetryableDeliveryError');
  });

  it('keeps the cause', () => {
    const cause = new TypeError('fetch failed');

    expect(new RetryableDeliveryError('call failed', undefined, { cause }).cause).toBe(cause);
    expect(new ConfigError('bad', { cause }).cause).toBe(cause);
  });

  it('keeps the downstream status on delivery errors', () => {
    expect(new RetryableDeliveryError('throttled', 429).status).toBe(429);
    expect(new PermanentDeliveryError('refused', 401).status).toBe(401);
  });
});
