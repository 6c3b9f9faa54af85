import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig } from './aws-clients';
import { envPrefix } from './catalogue-types';
import type { Config } from './config';
import { ConfigError } from './errors';

/**
 * Each partner keeps its outbound credentials in one secret and, if it calls us, its inbound token
 * in another, so an ingress function (which needs only the token) cannot read the credentials.
 * Braze keeps its REST key. Partners are named by id (`seen`, `movable-ink`); nothing here knows them.
 */
export type SecretOwner = string;

/**
 * A partner's secret fields by name (`api_key`, `api_token`...). Which fields a partner has is
 * declared once, in its folder (`secret` in functions/<partner>/partner.ts); nothing here names them.
 */
export type SecretValues = Readonly<Record<string, string | undefined>>;

export interface SecretStore {
  /** The owner's outbound credentials. */
  get(owner: SecretOwner): Promise<SecretValues>;
  /**
   * The tokens the owner may present to us: the current one and, while a rotation is under way, the
   * previous one (empty when none is configured: every request is then refused). `fresh` asks for
   * them afresh after a presented token matched none of them (a rotation the cache has not seen
   * yet); a store may read afresh at most once in a while, so refused requests cannot make it call
   * its backend at their own rate.
   */
  inboundTokens(owner: SecretOwner, fresh?: boolean): Promise<readonly string[]>;
  /**
   * Forgets the cached outbound secret of `owner`, so the next `get` reads it afresh (Powertools
   * `forceFetch`): a destination that refused our key may have been given a rotated one.
   */
  refresh(owner: SecretOwner): Promise<void>;
}

/** The variable holding an owner's outbound secret id (ARN or name) in AWS: `SEEN_SECRET_ID`. */
export const secretIdVariable = (owner: SecretOwner): string => `${envPrefix(owner)}_SECRET_ID`;
/** The variable holding an owner's inbound-token secret id in AWS: `SEEN_INBOUND_SECRET_ID`. */
export const inboundSecretIdVariable = (owner: SecretOwner): string => `${envPrefix(owner)}_INBOUND_SECRET_ID`;

/** A token that is a non-empty string; anything else is no token. */
const tokenOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The distinct, non-empty tokens, in order. */
const tokens = (...candidates: (string | undefined)[]): string[] => [...new Set(candidates.filter((token): token is string => token !== undefined))];

/**
 * A secret's text as a JSON object. The error names the secret (its variable and id) and never
 * holds its text, not even as a cause: JSON.parse's own message quotes the text it could not read,
 * and what the error says reaches logs and DLQs.
 */
function parseSecretJson(raw: unknown, where: string): Record<string, unknown> {
  const text = raw instanceof Uint8Array ? new TextDecoder().decode(raw) : raw;
  if (typeof text !== 'string' || text === '') throw new ConfigError(`secret ${where} has no value`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(`secret ${where} is not JSON: store a JSON object, e.g. {"api_key": "..."} (docs/deploy.md: Secrets)`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`secret ${where} is not a JSON object: store e.g. {"api_key": "..."} (docs/deploy.md: Secrets)`);
  }
  return value as Record<string, unknown>;
}

/** Secrets Manager's answer to a version stage the secret does not have (no previous version yet). */
function isNoSuchVersion(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return [error, cause].some((e) => e instanceof ResourceNotFoundException || (e instanceof Error && e.name === 'ResourceNotFoundException'));
}

/** A presented token that matched nothing makes the inbound secret be read afresh at most this often. */
const INBOUND_FRESH_READ_INTERVAL_MS = 30_000;

/**
 * AWS: JSON secrets fetched lazily and cached (Powertools keeps them `maxAgeSeconds`, so a rotated
 * secret is picked up without a redeploy). The ids come from the function's environment, which
 * holds only the secrets its role may read. The secret's text is parsed here, not by Powertools'
 * `transform: 'json'`, whose error quotes the text.
 *
 * Inbound tokens: the inbound secret's current version (`AWSCURRENT`) and its previous one
 * (`AWSPREVIOUS`, which Secrets Manager keeps after a `put-secret-value` or a rotation) are both
 * accepted, so a sender still presenting the old token is not refused while the new one is being
 * given to it. The previous version is read through a provider of its own: Powertools caches by
 * secret id and transform, not by version stage, so one provider would answer either version from
 * the other's cache entry.
 */
export class SecretsManagerStore implements SecretStore {
  private readonly current: SecretsProvider;
  private readonly previous: SecretsProvider;
  /** Inbound secret ids known to have no previous version, until when (ms). */
  private readonly noPreviousUntil = new Map<string, number>();
  /** When each inbound secret was last read afresh after a mismatch (ms). */
  private readonly freshReadAt = new Map<string, number>();

  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    client: SecretsManagerClient = new SecretsManagerClient(awsClientConfig(env)),
    private readonly maxAgeSeconds = 300,
  ) {
    this.current = new SecretsProvider({ awsSdkV3Client: client });
    this.previous = new SecretsProvider({ awsSdkV3Client: client });
  }

  async get(owner: SecretOwner): Promise<SecretValues> {
    return (await this.read(secretIdVariable(owner))) as SecretValues;
  }

  async refresh(owner: SecretOwner): Promise<void> {
    const id = this.env[secretIdVariable(owner)];
    if (id) await this.current.get(id, { maxAge: this.maxAgeSeconds, forceFetch: true });
  }

  async inboundTokens(owner: SecretOwner, fresh = false): Promise<readonly string[]> {
    const variable = inboundSecretIdVariable(owner);
    const id = this.idOf(variable);
    const now = Date.now();
    const forceFetch = fresh && now - (this.freshReadAt.get(id) ?? -Infinity) >= INBOUND_FRESH_READ_INTERVAL_MS;
    if (forceFetch) {
      this.freshReadAt.set(id, now);
      this.noPreviousUntil.delete(id);
    }
    const [current, previous] = await Promise.all([this.read(variable, forceFetch), this.previousToken(id, forceFetch)]);
    return tokens(tokenOf(current.inbound_token), previous);
  }

  private idOf(variable: string): string {
    const id = this.env[variable];
    if (!id) throw new ConfigError(`${variable} is not set`);
    return id;
  }

  private async read(variable: string, forceFetch = false): Promise<Record<string, unknown>> {
    const id = this.idOf(variable);
    const raw = await this.current.get(id, { maxAge: this.maxAgeSeconds, forceFetch });
    return parseSecretJson(raw, `${id} (${variable})`);
  }

  /**
   * The inbound token of the secret's `AWSPREVIOUS` version; none when the secret has no previous
   * version (remembered for the max age too, so that is not asked on every request). A previous
   * version that is not a JSON object with a token also counts as none: after a plain-text secret
   * is replaced with a JSON one, the plain text is the previous version, and refusing every
   * request over it would keep the fault going.
   */
  private async previousToken(id: string, forceFetch: boolean): Promise<string | undefined> {
    if ((this.noPreviousUntil.get(id) ?? 0) > Date.now()) return undefined;
    let raw: unknown;
    try {
      raw = await this.previous.get(id, { maxAge: this.maxAgeSeconds, forceFetch, sdkOptions: { VersionStage: 'AWSPREVIOUS' } });
    } catch (error) {
      if (!isNoSuchVersion(error)) throw error;
      this.noPreviousUntil.set(id, Date.now() + this.maxAgeSeconds * 1000);
      return undefined;
    }
    try {
      return tokenOf(parseSecretJson(raw, id).inbound_token);
    } catch {
      return undefined;
    }
  }
}

/**
 * Local run and tests: the SPEC section 5 variables. A partner's secret field `f` is the variable
 * `<PREFIX>_<F>` (`SEEN_API_TOKEN` is the `api_token` of the seen secret); the fields a partner has
 * are declared in its folder, and every set `<PREFIX>_...` variable is served (settings among them,
 * which no code reads as a secret). One `INBOUND_TOKEN` (optionally with `INBOUND_TOKEN_PREVIOUS`, to
 * try a rotation) serves every partner.
 */
export class EnvSecretStore implements SecretStore {
  /** Each owner's values as last read: a Braze call asks for them each time, and reading means a pass over every variable. */
  private readonly read = new Map<SecretOwner, SecretValues>();

  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  static fromConfig(config: Pick<Config, 'env'>): EnvSecretStore {
    return new EnvSecretStore(config.env);
  }

  async get(owner: SecretOwner): Promise<SecretValues> {
    const known = this.read.get(owner);
    if (known) return known;
    const prefix = `${envPrefix(owner)}_`;
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.env)) {
      if (value && name.startsWith(prefix)) values[name.slice(prefix.length).toLowerCase()] = value;
    }
    this.read.set(owner, values);
    return values;
  }

  /** `INBOUND_TOKEN`, and `INBOUND_TOKEN_PREVIOUS` beside it while a sender still has the old one. */
  async inboundTokens(_owner: SecretOwner): Promise<readonly string[]> {
    return tokens(this.env.INBOUND_TOKEN || undefined, this.env.INBOUND_TOKEN_PREVIOUS || undefined);
  }

  /** The next `get` reads the environment again (a key changed in it is then used). */
  async refresh(owner: SecretOwner): Promise<void> {
    this.read.delete(owner);
  }
}

/** Secrets Manager wherever a secret id is configured (AWS), the environment otherwise (local). */
export function createSecretStore(config: Pick<Config, 'env'>): SecretStore {
  const inAws = Object.keys(config.env).some((name) => name.endsWith('_SECRET_ID'));
  return inAws ? new SecretsManagerStore(config.env) : EnvSecretStore.fromConfig(config);
}

/** Reads one field, failing with the owner and field name (never the value) when it is missing. */
export async function requireSecret(store: SecretStore, owner: SecretOwner, field: string): Promise<string> {
  const value = (await store.get(owner))[field];
  if (!value) throw new ConfigError(`secret ${owner}.${field} is not set`);
  return value;
}
