import { presentedToken, safeEqual } from '../../../functions/core/auth';

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

describe('presentedToken', () => {
  it('reads a Bearer token from the authorization header', () => {
    expect(presentedToken({ authorization: 'Bearer abc123' }, undefined)).toBe('abc123');
  });

  it.each(['bearer abc123', 'BEARER abc123', 'Bearer    abc123  '])('treats the scheme case-insensitively and trims: %p', (header) => {
    expect(presentedToken({ authorization: header }, undefined)).toBe('abc123');
  });

  it('reads the header under its capitalised name too', () => {
    expect(presentedToken({ Authorization: 'Bearer abc123' }, undefined)).toBe('abc123');
  });

  it('falls back to the token query parameter when there is no header', () => {
    expect(presentedToken({}, { token: 'from-query' })).toBe('from-query');
  });

  it('prefers the header over the query parameter', () => {
    expect(presentedToken({ authorization: 'Bearer from-header' }, { token: 'from-query' })).toBe('from-header');
  });

  it('falls back to the query parameter when the header uses another scheme', () => {
    expect(presentedToken({ authorization: 'Basic dXNlcjpwYXNz' }, { token: 'from-query' })).toBe('from-query');
  });

  it('falls back to the query parameter when the Bearer header carries only blanks', () => {
    expect(presentedToken({ authorization: 'Bearer    ' }, { token: 'from-query' })).toBe('from-query');
  });

  it('is undefined when nothing was presented', () => {
    expect(presentedToken({}, undefined)).toBeUndefined();
    expect(presentedToken({ authorization: 'Bearer' }, { token: '' })).toBeUndefined();
  });
});
