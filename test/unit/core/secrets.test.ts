import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../../functions/core/config';
import { ConfigError } from '../../../functions/core/errors';
import { createSecretStore, EnvSecretStore, requireSecret, SecretsManagerStore } from '../../../functions/core/secrets';

const seenSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:braze-partner-bridge/seen-AbCdEf';

describe('EnvSecretStore', () => {
  it('serves the local variables of each owner', async () => {
    const store = EnvSecretStore.fromConfig(loadConfig({ BRAZE_API_KEY: 'braze-key', INBOUND_TOKEN: 'inbound', SEEN_API_TOKEN: 'seen-token' }));

    await expect(store.get('braze')).resolves.toEqual({ api_key: 'braze-key' });
    await expect(store.get('seen')).resolves.toEqual({ inbound_token: 'inbound', api_token: 'seen-token' });
  });

  it('answers an empty set of values for an owner it was not given', async () => {
    await expect(new EnvSecretStore({}).get('seen')).resolves.toEqual({});
  });
});

describe('createSecretStore', () => {
  it('reads the environment when no secret id is configured (local run)', async () => {
    const store = createSecretStore(loadConfig({ SEEN_API_TOKEN: 'seen-token' }));

    expect(store).toBeInstanceOf(EnvSecretStore);
    await expect(store.get('seen')).resolves.toMatchObject({ api_token: 'seen-token' });
  });

  it('uses Secrets Manager as soon as a secret id is configured (AWS)', () => {
    const store = createSecretStore(loadConfig({ SEEN_SECRET_ID: seenSecretArn, SEEN_API_TOKEN: 'ignored-in-aws' }));

    expect(store).toBeInstanceOf(SecretsManagerStore);
  });
});

describe('SecretsManagerStore', () => {
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  const secretsMock = mockClient(client);
  const storeWith = (maxAgeSeconds = 300) => new SecretsManagerStore({ seen: seenSecretArn }, new SecretsProvider({ awsSdkV3Client: client }), maxAgeSeconds);
  const getCalls = () => secretsMock.commandCalls(GetSecretValueCommand);

  beforeEach(() => {
    secretsMock.reset();
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ inbound_token: 'inbound', api_token: 'seen-token' }) });
  });

  afterEach(() => jest.useRealTimers());

  it('fetches the owner secret by its id and parses its JSON', async () => {
    const values = await storeWith().get('seen');

    expect(values).toEqual({ inbound_token: 'inbound', api_token: 'seen-token' });
    expect(getCalls()).toHaveLength(1);
    expect(getCalls()[0]?.args[0].input).toMatchObject({ SecretId: seenSecretArn });
  });

  it('calls Secrets Manager once for repeated reads within the max age', async () => {
    const store = storeWith();

    await store.get('seen');
    await store.get('seen');
    await store.get('seen');

    expect(getCalls()).toHaveLength(1);
  });

  it('fetches again once the max age has passed, so a rotated token is picked up', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask', 'performance', 'hrtime'] });
    jest.setSystemTime(Date.UTC(2024, 0, 15, 12, 0, 0));
    const store = storeWith(300);
    await store.get('seen');
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ inbound_token: 'rotated', api_token: 'seen-token' }) });

    jest.setSystemTime(Date.UTC(2024, 0, 15, 12, 5, 1));
    const values = await store.get('seen');

    expect(getCalls()).toHaveLength(2);
    expect(values.inbound_token).toBe('rotated');
  });

  it('fails with a ConfigError naming the variable when the owner has no secret id', async () => {
    await expect(storeWith().get('braze')).rejects.toThrow(ConfigError);
    await expect(storeWith().get('braze')).rejects.toThrow('BRAZE_SECRET_ID is not set');
    expect(getCalls()).toHaveLength(0);
  });

  it('refuses a secret that is not a JSON object', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '"plain-token-value"' });

    const error: unknown = await storeWith().get('seen').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('seen');
    expect(String(error)).not.toContain('plain-token-value');
  });
});

describe('requireSecret', () => {
  const store = new EnvSecretStore({ seen: { inbound_token: 'inbound-value-xyz', api_token: '' } });

  it('returns the field when it is set', async () => {
    await expect(requireSecret(store, 'seen', 'inbound_token')).resolves.toBe('inbound-value-xyz');
  });

  it('fails with a ConfigError naming owner.field when the field is missing or empty', async () => {
    await expect(requireSecret(store, 'seen', 'api_token')).rejects.toThrow(ConfigError);
    await expect(requireSecret(store, 'seen', 'api_token')).rejects.toThrow('secret seen.api_token is not set');
    await expect(requireSecret(store, 'braze', 'api_key')).rejects.toThrow('secret braze.api_key is not set');
  });

  it('never puts a secret value in the error', async () => {
    const error: unknown = await requireSecret(store, 'seen', 'api_token').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).not.toContain('inbound-value-xyz');
  });
});
