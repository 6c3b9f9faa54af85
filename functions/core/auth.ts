import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison: both sides are hashed first so unequal lengths leak nothing either. */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Whether `given` equals one of `candidates` (a current and a previous token), comparing it with
 * every one of them whatever the outcome, so the time taken says nothing of which one matched.
 */
export function matchesAny(given: string, candidates: readonly string[]): boolean {
  let matched = false;
  for (const candidate of candidates) matched = safeEqual(given, candidate) || matched;
  return matched;
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(headers: Record<string, string | undefined>): string | undefined {
  const authorization = headers.authorization ?? headers.Authorization;
  return authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() || undefined;
}

/**
 * The password of an `Authorization: Basic base64(user:password)` header, if any (the user name is
 * not read): for senders that offer Basic auth only, the inbound token goes there.
 */
export function basicPassword(headers: Record<string, string | undefined>): string | undefined {
  const authorization = headers.authorization ?? headers.Authorization;
  const encoded = authorization?.match(/^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i)?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1) || undefined;
}

/** The `token` query parameter, if any (for senders that can only set a URL). */
export function queryToken(query: Record<string, string | undefined> | undefined): string | undefined {
  return query?.token || undefined;
}
