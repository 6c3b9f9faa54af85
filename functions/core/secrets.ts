import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
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

export interface SecretValues {
  /** Outbound credential for the partner's API (Braze: the REST API key). */
  api_key?: string;
  api_token?: string;
  api_username?: string;
  api_password?: string;
}

export interface SecretStore {
  /** The owner's outbound credentials. */
  get(owner: SecretOwner): Promise<SecretValues>;
  /** The token the owner presents to us; undefined when none is configured (every request is then refused). */
  inboundToken(owner: SecretOwner): Promise<string | undefined>;
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

/**
 * AWS: JSON secrets fetched lazily and cached (Powertools keeps them `maxAgeSeconds`, so a rotated
 * token is picked up without a redeploy). The ids come from the function's environment, which
 * holds only the secrets its role may read.
 */
export class SecretsManagerStore implements SecretStore {
  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly provider: SecretsProvider = new SecretsProvider({ clientConfig: awsClientConfig(env) }),
    private readonly maxAgeSeconds = 300,
  ) {}

  async get(owner: SecretOwner): Promise<SecretValues> {
    return (await this.read(secretIdVariable(owner), owner)) as SecretValues;
  }

  async refresh(owner: SecretOwner): Promise<void> {
    const id = this.env[secretIdVariable(owner)];
    if (id) await this.provider.get(id, { transform: 'json', maxAge: this.maxAgeSeconds, forceFetch: true });
  }

  async inboundToken(owner: SecretOwner): Promise<string | undefined> {
    const value = (await this.read(inboundSecretIdVariable(owner), owner)).inbound_token;
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  private async read(variable: string, owner: SecretOwner): Promise<Record<string, unknown>> {
    const id = this.env[variable];
    if (!id) throw new ConfigError(`${variable} is not set`);
    const value = await this.provider.get(id, { transform: 'json', maxAge: this.maxAgeSeconds });
    if (!value || typeof value !== 'object') throw new ConfigError(`secret for ${owner} is empty or not a JSON object`);
    return value as Record<string, unknown>;
  }
}

/**
 * Local run and tests: the SPEC section 5 variables, by convention `<PREFIX>_API_KEY`,
 * `<PREFIX>_API_TOKEN`, `<PREFIX>_API_USERNAME`, `<PREFIX>_API_PASSWORD`, and one `INBOUND_TOKEN`
 * for every partner.
 */
export class EnvSecretStore implements SecretStore {
  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  static fromConfig(config: Pick<Config, 'env'>): EnvSecretStore {
    return new EnvSecretStore(config.env);
  }

  async get(owner: SecretOwner): Promise<SecretValues> {
    const prefix = envPrefix(owner);
    const pick = (name: string) => this.env[`${prefix}_${name}`] || undefined;
    return { api_key: pick('API_KEY'), api_token: pick('API_TOKEN'), api_username: pick('API_USERNAME'), api_password: pick('API_PASSWORD') };
  }

  async inboundToken(_owner: SecretOwner): Promise<string | undefined> {
    return this.env.INBOUND_TOKEN || undefined;
  }

  /** The environment is read on every `get`: nothing is cached. */
  async refresh(_owner: SecretOwner): Promise<void> {}
}

/** Secrets Manager wherever a secret id is configured (AWS), the environment otherwise (local). */
export function createSecretStore(config: Pick<Config, 'env'>): SecretStore {
  const inAws = Object.keys(config.env).some((name) => name.endsWith('_SECRET_ID'));
  return inAws ? new SecretsManagerStore(config.env) : EnvSecretStore.fromConfig(config);
}

/** Reads one field, failing with the owner and field name (never the value) when it is missing. */
export async function requireSecret(store: SecretStore, owner: SecretOwner, field: keyof SecretValues): Promise<string> {
  const value = (await store.get(owner))[field];
  if (!value) throw new ConfigError(`secret ${owner}.${field} is not set`);
  return value;
}
