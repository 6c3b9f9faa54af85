import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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

  it('serves any field a partner declares, by its variable, though core names none (SEEN OAuth2, a new partner)', async () => {
    const store = new EnvSecretStore({ SEEN_OAUTH_CLIENT_ID: 'client', SEEN_OAUTH_CLIENT_SECRET: 'shh', NIMBUS_SIGNING_KEY: 'k', MOVABLE_INK_USERNAME: '' });

    await expect(store.get('seen')).resolves.toMatchObject({ oauth_client_id: 'client', oauth_client_secret: 'shh' });
    await expect(store.get('nimbus')).resolves.toEqual({ signing_key: 'k' });
    await expect(store.get('movable-ink')).resolves.toEqual({});
  });

  it('reads an owner once, and again after refresh (a destination refused the key, which may have changed)', async () => {
    const env: Record<string, string> = { BRAZE_API_KEY: 'first-key' };
    const store = new EnvSecretStore(env);

    await expect(store.get('braze')).resolves.toEqual({ api_key: 'first-key' });
    env.BRAZE_API_KEY = 'rotated-key';
    await expect(store.get('braze')).resolves.toEqual({ api_key: 'first-key' });
    await store.refresh('braze');
    await expect(store.get('braze')).resolves.toEqual({ api_key: 'rotated-key' });
  });

  it('serves the one INBOUND_TOKEN for every owner, and never as an outbound credential', async () => {
    const store: SecretStore = new EnvSecretStore({ INBOUND_TOKEN: 'inbound', SEEN_API_TOKEN: 'seen-token' });

    await expect(store.inboundTokens('seen')).resolves.toEqual(['inbound']);
    await expect(store.inboundTokens('lytics')).resolves.toEqual(['inbound']);
    expect(Object.values(await store.get('seen'))).not.toContain('inbound');
  });

  it('serves INBOUND_TOKEN_PREVIOUS beside INBOUND_TOKEN, as AWS serves the previous version of a rotated secret', async () => {
    const store: SecretStore = new EnvSecretStore({ INBOUND_TOKEN: 'new-token', INBOUND_TOKEN_PREVIOUS: 'old-token' });

    await expect(store.inboundTokens('seen')).resolves.toEqual(['new-token', 'old-token']);
  });

  it('answers an empty set of values, and no inbound token, when it was given nothing', async () => {
    const store: SecretStore = new EnvSecretStore({ SEEN_API_TOKEN: '', INBOUND_TOKEN: '' });

    await expect(store.get('seen')).resolves.toEqual({});
    await expect(store.inboundTokens('seen')).resolves.toEqual([]);
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
  const storeWith = (maxAgeSeconds = 300, env: Record<string, string> = bothIds) => new SecretsManagerStore(env, client, maxAgeSeconds);
  /** The versions Secrets Manager holds, per secret id and version stage; a stage not held answers ResourceNotFoundException. */
  let versions: Record<string, Partial<Record<'AWSCURRENT' | 'AWSPREVIOUS', string>>>;
  const getCalls = () => secretsMock.commandCalls(GetSecretValueCommand);
  /** `<id>` for the current version, `<id>@AWSPREVIOUS` for the previous one. */
  const secretIdsFetched = () =>
    getCalls().map(({ args: [{ input }] }) =>
      input.VersionStage && input.VersionStage !== 'AWSCURRENT' ? `${input.SecretId}@${input.VersionStage}` : String(input.SecretId),
    );
  const answer = (arn: string, value: unknown, stage: 'AWSCURRENT' | 'AWSPREVIOUS' = 'AWSCURRENT') => {
    versions[arn] = { ...versions[arn], [stage]: typeof value === 'string' ? value : JSON.stringify(value) };
  };

  beforeEach(() => {
    secretsMock.reset();
    versions = {};
    secretsMock.on(GetSecretValueCommand).callsFake((input: { SecretId: string; VersionStage?: string }) => {
      const stage = (input.VersionStage ?? 'AWSCURRENT') as 'AWSCURRENT' | 'AWSPREVIOUS';
      const value = versions[input.SecretId]?.[stage];
      if (value === undefined) {
        throw new ResourceNotFoundException({ message: `Secrets Manager can't find the specified secret value for staging label: ${stage}`, $metadata: {} });
      }
      return { SecretString: value };
    });
    answer(seenSecretArn, { api_token: 'seen-token' });
    answer(seenInboundSecretArn, { inbound_token: 'inbound' });
  });

  afterEach(() => jest.useRealTimers());

  const fakeNow = (iso: string) => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask', 'performance', 'hrtime'] });
    jest.setSystemTime(new Date(iso));
  };

  it('fetches the owner outbound secret by its id and parses its JSON', async () => {
    const values = await storeWith().get('seen');

    expect(values).toEqual({ api_token: 'seen-token' });
    expect(secretIdsFetched()).toEqual([seenSecretArn]);
  });

  it('fetches the inbound token from the inbound secret only (its current and previous versions), never reading the outbound one', async () => {
    await expect(storeWith().inboundTokens('seen')).resolves.toEqual(['inbound']);

    expect(secretIdsFetched().sort()).toEqual([seenInboundSecretArn, `${seenInboundSecretArn}@AWSPREVIOUS`]);
  });

  it('accepts the previous version of a rotated inbound secret beside the current one', async () => {
    answer(seenInboundSecretArn, { inbound_token: 'new-token' });
    answer(seenInboundSecretArn, { inbound_token: 'old-token' }, 'AWSPREVIOUS');

    await expect(storeWith().inboundTokens('seen')).resolves.toEqual(['new-token', 'old-token']);
  });

  it.each([
    ['holds none (a freshly created secret)', {}],
    ['holds an empty one', { inbound_token: '' }],
    ['holds a non-string one', { inbound_token: 42 }],
  ])('answers no inbound token when the inbound secret %s', async (_name, value) => {
    answer(seenInboundSecretArn, value);

    await expect(storeWith().inboundTokens('seen')).resolves.toEqual([]);
  });

  it('takes a previous version that is not JSON as no previous token: the fix of a plain-text secret must not refuse every request', async () => {
    answer(seenInboundSecretArn, 'plain-old-token-value', 'AWSPREVIOUS');

    await expect(storeWith().inboundTokens('seen')).resolves.toEqual(['inbound']);
  });

  it('reads the inbound secret as an ingress function holds it: without the outbound secret id', async () => {
    const ingressStore = storeWith(300, { SEEN_INBOUND_SECRET_ID: seenInboundSecretArn });

    await expect(ingressStore.inboundTokens('seen')).resolves.toEqual(['inbound']);
    await expect(ingressStore.get('seen')).rejects.toThrow('SEEN_SECRET_ID is not set');
    expect(secretIdsFetched().every((id) => id.startsWith(seenInboundSecretArn))).toBe(true);
  });

  it('calls Secrets Manager once per version for repeated reads within the max age, a missing previous version included', async () => {
    const store = storeWith();

    await store.get('seen');
    await store.get('seen');
    await store.inboundTokens('seen');
    await store.inboundTokens('seen');

    expect(secretIdsFetched().sort()).toEqual([seenSecretArn, seenInboundSecretArn, `${seenInboundSecretArn}@AWSPREVIOUS`].sort());
  });

  it('fetches again once the max age has passed, so a rotated token and its previous one are picked up', async () => {
    fakeNow('2024-01-15T12:00:00Z');
    const store = storeWith(300);
    await store.inboundTokens('seen');
    answer(seenInboundSecretArn, { inbound_token: 'rotated' });
    answer(seenInboundSecretArn, { inbound_token: 'inbound' }, 'AWSPREVIOUS');

    jest.setSystemTime(new Date('2024-01-15T12:05:01Z'));
    const tokens = await store.inboundTokens('seen');

    expect(getCalls()).toHaveLength(4);
    expect(tokens).toEqual(['rotated', 'inbound']);
  });

  it('reads the inbound secret afresh when asked after a mismatch, at most once in 30 s', async () => {
    fakeNow('2024-01-15T12:00:00Z');
    const store = storeWith(300);
    await store.inboundTokens('seen');
    answer(seenInboundSecretArn, { inbound_token: 'rotated' });
    answer(seenInboundSecretArn, { inbound_token: 'inbound' }, 'AWSPREVIOUS');

    const fresh = await store.inboundTokens('seen', true);
    answer(seenInboundSecretArn, { inbound_token: 'rotated-again' });
    jest.setSystemTime(new Date('2024-01-15T12:00:29Z'));
    const tooSoon = await store.inboundTokens('seen', true);
    jest.setSystemTime(new Date('2024-01-15T12:00:31Z'));
    const later = await store.inboundTokens('seen', true);

    expect(fresh).toEqual(['rotated', 'inbound']);
    expect(tooSoon).toEqual(['rotated', 'inbound']);
    expect(later).toEqual(['rotated-again', 'inbound']);
    expect(getCalls()).toHaveLength(6);
  });

  it('fails with a ConfigError naming the variable when the owner has no secret id', async () => {
    await expect(storeWith().get('braze')).rejects.toThrow(ConfigError);
    await expect(storeWith().get('braze')).rejects.toThrow('BRAZE_SECRET_ID is not set');
    await expect(storeWith().inboundTokens('lytics')).rejects.toThrow('LYTICS_INBOUND_SECRET_ID is not set');
    await expect(storeWith().get('movable-ink')).rejects.toThrow('MOVABLE_INK_SECRET_ID is not set');
    expect(getCalls()).toHaveLength(0);
  });

  it('refuses a secret that is JSON but not an object', async () => {
    answer(seenSecretArn, '"plain-token-value"');

    const error: unknown = await storeWith()
      .get('seen')
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('SEEN_SECRET_ID');
    expect(String(error)).not.toContain('plain-token-value');
  });

  it.each([
    ['the outbound secret', seenSecretArn, 'SEEN_SECRET_ID', (store: SecretsManagerStore) => store.get('seen')],
    ['the inbound secret', seenInboundSecretArn, 'SEEN_INBOUND_SECRET_ID', (store: SecretsManagerStore) => store.inboundTokens('seen')],
  ])('refuses %s stored as plain text, naming it and never holding its value, not even in the cause', async (_name, arn, variable, read) => {
    const value = 'sk-live-0123456789abcdefghijklmnop';
    answer(arn, value);

    const error: unknown = await read(storeWith()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(variable);
    expect((error as Error).message).toContain(arn);
    expect((error as Error).message).toContain('not JSON');
    expect((error as Error).cause).toBeUndefined();
    for (const piece of [value, value.slice(0, 10), value.slice(-10)]) {
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(piece);
    }
  });

  it('re-reads the outbound secret on refresh, so the next get has the rotated value', async () => {
    const store = storeWith();
    await store.get('seen');
    answer(seenSecretArn, { api_token: 'rotated-token' });

    await store.refresh('seen');

    await expect(store.get('seen')).resolves.toEqual({ api_token: 'rotated-token' });
    expect(secretIdsFetched()).toEqual([seenSecretArn, seenSecretArn]);
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
