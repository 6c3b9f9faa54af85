import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../../functions/core/config';
import { ConfigError } from '../../../functions/core/errors';
import { createSecretStore, EnvSecretStore, requireSecret, type SecretStore, SecretsManagerStore } from '../../../functions/core/secrets';

const seenSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:braze-partner-bridge/seen-AbCdEf';
const seenInboundSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:braze-partner-bridge/seen/inbound-GhIjKl';

describe('EnvSecretStore', () => {
  it('serves the local variables of each owner, by its prefix', async () => {
    const store = EnvSecretStore.fromConfig(
      loadConfig({
        BRAZE_API_KEY: 'braze-key',
        INBOUND_TOKEN: 'inbound',
        SEEN_API_TOKEN: 'seen-token',
        MOVABLE_INK_API_USERNAME: 'mi-user',
        MOVABLE_INK_API_PASSWORD: 'mi-password',
      }),
    );

    await expect(store.get('braze')).resolves.toEqual({ api_key: 'braze-key' });
    await expect(store.get('seen')).resolves.toEqual({ api_token: 'seen-token' });
    await expect(store.get('movable-ink')).resolves.toEqual({ api_username: 'mi-user', api_password: 'mi-password' });
  });

  it('serves the one INBOUND_TOKEN for every owner, and never as an outbound credential', async () => {
    const store: SecretStore = new EnvSecretStore({ INBOUND_TOKEN: 'inbound', SEEN_API_TOKEN: 'seen-token' });

    await expect(store.inboundToken('seen')).resolves.toBe('inbound');
    await expect(store.inboundToken('lytics')).resolves.toBe('inbound');
    expect(Object.values(await store.get('seen'))).not.toContain('inbound');
  });

  it('answers an empty set of values, and no inbound token, when it was given nothing', async () => {
    const store: SecretStore = new EnvSecretStore({ SEEN_API_TOKEN: '', INBOUND_TOKEN: '' });

    await expect(store.get('seen')).resolves.toEqual({});
    await expect(store.inboundToken('seen')).resolves.toBeUndefined();
    await expect(new EnvSecretStore({}).get('seen')).resolves.toEqual({});
  });
});

describe('createSecretStore', () => {
  it('reads the environment when no secret id is configured (local run)', async () => {
    const store = createSecretStore(loadConfig({ SEEN_API_TOKEN: 'seen-token' }));

    expect(store).toBeInstanceOf(EnvSecretStore);
    await expect(store.get('seen')).resolves.toMatchObject({ api_token: 'seen-token' });
  });

  it.each([
    ['an outbound secret id (consumers, jobs)', { SEEN_SECRET_ID: seenSecretArn, SEEN_API_TOKEN: 'ignored-in-aws' }],
    ['an inbound secret id only (ingress functions)', { SEEN_INBOUND_SECRET_ID: seenInboundSecretArn, INBOUND_TOKEN: 'ignored-in-aws' }],
  ])('uses Secrets Manager as soon as a secret id is configured (AWS): %s', (_name, env) => {
    expect(createSecretStore(loadConfig(env))).toBeInstanceOf(SecretsManagerStore);
  });
});

describe('SecretsManagerStore', () => {
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  const secretsMock = mockClient(client);
  const bothIds = { SEEN_SECRET_ID: seenSecretArn, SEEN_INBOUND_SECRET_ID: seenInboundSecretArn };
  const storeWith = (maxAgeSeconds = 300, env: Record<string, string> = bothIds) =>
    new SecretsManagerStore(env, new SecretsProvider({ awsSdkV3Client: client }), maxAgeSeconds);
  const getCalls = () => secretsMock.commandCalls(GetSecretValueCommand);
  const secretIdsFetched = () => getCalls().map((call) => call.args[0].input.SecretId);
  const answer = (arn: string, value: unknown) =>
    secretsMock.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: typeof value === 'string' ? value : JSON.stringify(value) });

  beforeEach(() => {
    secretsMock.reset();
    answer(seenSecretArn, { api_token: 'seen-token' });
    answer(seenInboundSecretArn, { inbound_token: 'inbound' });
  });

  afterEach(() => jest.useRealTimers());

  it('fetches the owner outbound secret by its id and parses its JSON', async () => {
    const values = await storeWith().get('seen');

    expect(values).toEqual({ api_token: 'seen-token' });
    expect(secretIdsFetched()).toEqual([seenSecretArn]);
  });

  it('fetches the inbound token from the inbound secret only, never reading the outbound one', async () => {
    await expect(storeWith().inboundToken('seen')).resolves.toBe('inbound');

    expect(secretIdsFetched()).toEqual([seenInboundSecretArn]);
  });

  it.each([
    ['holds none (a freshly created secret)', {}],
    ['holds an empty one', { inbound_token: '' }],
    ['holds a non-string one', { inbound_token: 42 }],
  ])('answers no inbound token when the inbound secret %s', async (_name, value) => {
    answer(seenInboundSecretArn, value);

    await expect(storeWith().inboundToken('seen')).resolves.toBeUndefined();
  });

  it('reads the inbound secret as an ingress function holds it: without the outbound secret id', async () => {
    const ingressStore = storeWith(300, { SEEN_INBOUND_SECRET_ID: seenInboundSecretArn });

    await expect(ingressStore.inboundToken('seen')).resolves.toBe('inbound');
    await expect(ingressStore.get('seen')).rejects.toThrow('SEEN_SECRET_ID is not set');
    expect(secretIdsFetched()).toEqual([seenInboundSecretArn]);
  });

  it('calls Secrets Manager once for repeated reads within the max age', async () => {
    const store = storeWith();

    await store.get('seen');
    await store.get('seen');
    await store.inboundToken('seen');
    await store.inboundToken('seen');

    expect(secretIdsFetched()).toEqual([seenSecretArn, seenInboundSecretArn]);
  });

  it('fetches again once the max age has passed, so a rotated token is picked up', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask', 'performance', 'hrtime'] });
    jest.setSystemTime(Date.UTC(2024, 0, 15, 12, 0, 0));
    const store = storeWith(300);
    await store.inboundToken('seen');
    answer(seenInboundSecretArn, { inbound_token: 'rotated' });

    jest.setSystemTime(Date.UTC(2024, 0, 15, 12, 5, 1));
    const token = await store.inboundToken('seen');

    expect(getCalls()).toHaveLength(2);
    expect(token).toBe('rotated');
  });

  it('fails with a ConfigError naming the variable when the owner has no secret id', async () => {
    await expect(storeWith().get('braze')).rejects.toThrow(ConfigError);
    await expect(storeWith().get('braze')).rejects.toThrow('BRAZE_SECRET_ID is not set');
    await expect(storeWith().inboundToken('lytics')).rejects.toThrow('LYTICS_INBOUND_SECRET_ID is not set');
    await expect(storeWith().get('movable-ink')).rejects.toThrow('MOVABLE_INK_SECRET_ID is not set');
    expect(getCalls()).toHaveLength(0);
  });

  it('refuses a secret that is not a JSON object', async () => {
    answer(seenSecretArn, '"plain-token-value"');

    const error: unknown = await storeWith().get('seen').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('seen');
    expect(String(error)).not.toContain('plain-token-value');
  });
});

describe('requireSecret', () => {
  const store = new EnvSecretStore({ SEEN_API_TOKEN: 'seen-token-xyz', SEEN_API_KEY: '' });

  it('returns the field when it is set', async () => {
    await expect(requireSecret(store, 'seen', 'api_token')).resolves.toBe('seen-token-xyz');
  });

  it('fails with a ConfigError naming owner.field when the field is missing or empty', async () => {
    await expect(requireSecret(store, 'seen', 'api_key')).rejects.toThrow(ConfigError);
    await expect(requireSecret(store, 'seen', 'api_key')).rejects.toThrow('secret seen.api_key is not set');
    await expect(requireSecret(store, 'braze', 'api_key')).rejects.toThrow('secret braze.api_key is not set');
  });

  it('never puts a secret value in the error', async () => {
    const error: unknown = await requireSecret(store, 'seen', 'api_key').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).not.toContain('seen-token-xyz');
  });
});
