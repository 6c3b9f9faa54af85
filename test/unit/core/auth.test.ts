import { bearerToken, safeEqual } from '../../../functions/core/auth';

describe('safeEqual', () => {
  it('accepts the same token', () => {
    expect(safeEqual('s3cr3t-token', 's3cr3t-token')).toBe(true);
  });

  it('refuses a different token of the same length', () => {
    expect(safeEqual('s3cr3t-tokeN', 's3cr3t-token')).toBe(false);
  });

  it('refuses a token of another length without throwing', () => {
    expect(safeEqual('short', 'a-much-longer-token')).toBe(false);
    expect(safeEqual('', 'token')).toBe(false);
  });
});

describe('bearerToken', () => {
  it('reads a Bearer token from the authorization header', () => {
    expect(bearerToken({ authorization: 'Bearer abc123' })).toBe('abc123');
  });

  it.each(['bearer abc123', 'BEARER abc123', 'Bearer    abc123  '])('treats the scheme case-insensitively and trims: %p', (header) => {
    expect(bearerToken({ authorization: header })).toBe('abc123');
  });

  it('reads the header under its capitalised name too', () => {
    expect(bearerToken({ Authorization: 'Bearer abc123' })).toBe('abc123');
  });

  it('is undefined for another scheme, a Bearer header with only blanks, or no header', () => {
    expect(bearerToken({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(bearerToken({ authorization: 'Bearer    ' })).toBeUndefined();
    expect(bearerToken({ authorization: 'Bearer' })).toBeUndefined();
    expect(bearerToken({})).toBeUndefined();
  });
});
