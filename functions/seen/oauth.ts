import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { Clock } from '../core/clock';
import { DestinationConfigError, PermanentDeliveryError } from '../core/errors';
import type { HttpClient } from '../core/http';

/** An OAuth2 client of SEEN API 2.0 ("Settings -> OAuth2 -> Create OAuth2 Client") and where it gets its tokens. */
export interface OAuthClient {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/** A token is not used once it has less than this left (or a tenth of its life, if shorter). */
const TOKEN_EXPIRY_MARGIN_MS = 60_000;
/** How long a token is kept when the endpoint says nothing of its life (RFC 6749 makes expires_in optional). */
const DEFAULT_TOKEN_SECONDS = 300;

/**
 * The token endpoint's answer (RFC 6749 section 5.1; SEEN documents the request, docs.seen.io
 * "SEEN API 2.0 - Authorization": POST https://next.seen.io/oauth2/token, form-encoded
 * grant_type=client_credentials, client_id, client_secret).
 */
const tokenAnswerSchema = z.looseObject({
  access_token: z.string().check(z.minLength(1)),
  expires_in: z.optional(z.union([z.number(), z.string().check(z.regex(/^\d+$/))])),
});

interface Token {
  value: string;
  /** When it stops being used (clock ms): its expiry, less the margin. */
  until: number;
}

/**
 * OAuth2 client-credentials tokens for SEEN API 2.0: each token is kept until shortly before it
 * expires, so many calls share one token request; callers asking at the same time share one
 * request; a token the API refused (401) is dropped so the next ask fetches another. Tokens and
 * the client secret never appear in an error or a log line (the HTTP client logs a label only).
 */
export class OAuthTokens {
  private readonly tokens = new Map<string, Token>();
  private readonly pending = new Map<string, Promise<Token>>();

  constructor(private readonly clock: Pick<Clock, 'now'>) {}

  /** The client's token: the kept one while it is fresh, else a new one from `request` (see `fetchToken`). */
  async token(client: OAuthClient, request: () => Promise<{ accessToken: string; expiresInSeconds: number }>): Promise<string> {
    const key = keyOf(client);
    const kept = this.tokens.get(key);
    if (kept && kept.until > this.clock.now()) return kept.value;
    let asked = this.pending.get(key);
    if (!asked) {
      asked = (async () => {
        const { accessToken, expiresInSeconds } = await request();
        const life = expiresInSeconds * 1000;
        const token = { value: accessToken, until: this.clock.now() + life - Math.min(TOKEN_EXPIRY_MARGIN_MS, life / 10) };
        this.tokens.set(key, token);
        return token;
      })().finally(() => this.pending.delete(key));
      this.pending.set(key, asked);
    }
    return (await asked).value;
  }

  /** Drops `token` (refused by the API) if it is still the one kept, so the next ask fetches another. */
  invalidate(client: OAuthClient, token: string): void {
    const key = keyOf(client);
    if (this.tokens.get(key)?.value === token) this.tokens.delete(key);
  }
}

/** Tokens are kept per endpoint and client; a rotated client secret is a new client. */
function keyOf(client: OAuthClient): string {
  return createHash('sha256').update(`${client.tokenUrl}\u0000${client.clientId}\u0000${client.clientSecret}`).digest('hex');
}

/**
 * Asks the token endpoint for a client-credentials token with `http` (one attempt, as the caller's
 * policy says). A refusal of the client (400 invalid_client / invalid_grant, 401, 403: RFC 6749
 * section 5.2) or an answer without a token is a fault of our configuration, never of the records
 * waiting: it is thrown as DestinationConfigError, so nothing is parked.
 */
export async function fetchToken(http: HttpClient, client: OAuthClient, deadline: number): Promise<{ accessToken: string; expiresInSeconds: number }> {
  const check = 'check SEEN_OAUTH_CLIENT_ID, SEEN_OAUTH_CLIENT_SECRET and SEEN_OAUTH_TOKEN_URL';
  let text: string;
  let status: number;
  try {
    const response = await http.send(
      {
        method: 'POST',
        url: client.tokenUrl,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }).toString(),
      },
      { label: 'seen oauth2 token', deadline },
    );
    text = response.text;
    status = response.status;
  } catch (error) {
    if (error instanceof PermanentDeliveryError) {
      throw new DestinationConfigError(`seen oauth2 token endpoint refused the client (${error.status ?? 'refused'}): ${check}`, error.status);
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const answer = z.safeParse(tokenAnswerSchema, parsed);
  if (!answer.success) throw new DestinationConfigError(`seen oauth2 token endpoint answered ${status} without an access_token: ${check}`, status);
  const expiresIn = answer.data.expires_in === undefined ? DEFAULT_TOKEN_SECONDS : Number(answer.data.expires_in);
  return { accessToken: answer.data.access_token, expiresInSeconds: expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_SECONDS };
}
