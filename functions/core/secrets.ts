import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { Config } from './config';
import { ConfigError } from './errors';

/** Each partner keeps its inbound token and outbound credentials together; Braze its REST key. */
export type SecretOwner = 'braze' | 'seen' | 'lytics';

export interface SecretValues {
  /** Token partners (or Braze webhooks) present to us. */
  inbound_token?: string;
  /** Outbound credential for the partner's API (Braze: the REST API key). */
  api_key?: string;
  api_token?: string;
  api_username?: string;
  api_password?: string;
}

export interface SecretStore {
  get(owner: SecretOwner): Promise<SecretValues>;
}

/** Name of the variable holding each owner's Secrets Manager id (ARN or name) in AWS. */
export const secretIdVariable: Record<SecretOwner, keyof Config> = {
  braze: 'BRAZE_SECRET_ID',
  seen: 'SEEN_SECRET_ID',
  lytics: 'LYTICS_SECRET_ID',
};

/**
 * AWS: one JSON secret per owner, fetched lazily and cached (Powertools keeps it `maxAgeSeconds`,
 * so a rotated token is picked up without a redeploy).
 */
export class SecretsManagerStore implements SecretStore {
  constructor(
    private readonly ids: Partial<Record<SecretOwner, string>>,
    private readonly provider: SecretsProvider = new SecretsProvider(),
    private readonly maxAgeSeconds = 300,
  ) {}

  async get(owner: SecretOwner): Promise<SecretValues> {
    const id = this.ids[owner];
    if (!id) throw new ConfigError(`${String(secretIdVariable[owner])} is not set`);
    const value = await this.provider.get(id, { transform: 'json', maxAge: this.maxAgeSeconds });
    if (!value || typeof value !== 'object') throw new ConfigError(`secret for ${owner} is empty or not a JSON object`);
    return value as SecretValues;
  }
}

/** Local run and tests: the SPEC section 5 variables. */
export class EnvSecretStore implements SecretStore {
  constructor(private readonly values: Partial<Record<SecretOwner, SecretValues>>) {}

  static fromConfig(config: Config): EnvSecretStore {
    return new EnvSecretStore({
      braze: { api_key: config.BRAZE_API_KEY },
      seen: { inbound_token: config.INBOUND_TOKEN, api_token: config.SEEN_API_TOKEN },
      lytics: { inbound_token: config.INBOUND_TOKEN, api_token: config.LYTICS_API_TOKEN },
    });
  }

  async get(owner: SecretOwner): Promise<SecretValues> {
    return this.values[owner] ?? {};
  }
}

/** Secrets Manager wherever an id is configured (AWS), the environment otherwise (local). */
export function createSecretStore(config: Config): SecretStore {
  const ids: Partial<Record<SecretOwner, string>> = {};
  for (const [owner, variable] of Object.entries(secretIdVariable) as [SecretOwner, keyof Config][]) {
    const id = config[variable];
    if (typeof id === 'string') ids[owner] = id;
  }
  if (Object.keys(ids).length === 0) return EnvSecretStore.fromConfig(config);
  return new SecretsManagerStore(ids);
}

/** Reads one field, failing with the owner and field name (never the value) when it is missing. */
export async function requireSecret(store: SecretStore, owner: SecretOwner, field: keyof SecretValues): Promise<string> {
  const value = (await store.get(owner))[field];
  if (!value) throw new ConfigError(`secret ${owner}.${field} is not set`);
  return value;
}
