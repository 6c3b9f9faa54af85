import { awsClientConfig } from '../../../functions/core/aws-clients';
import { defaultProvider } from '../../../functions/core/lambda-credentials';

const lambdaEnv = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'session' };

describe('awsClientConfig', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(lambdaEnv)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('gives the clients the region and the credentials Lambda puts in the environment', async () => {
    Object.assign(process.env, lambdaEnv);
    const config = awsClientConfig(lambdaEnv);

    expect(config.region).toBe('eu-west-1');
    await expect(config.credentials!()).resolves.toMatchObject({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' });
  });

  it('sets nothing where the environment holds no key (a shell with a profile: the SDK resolves as usual)', () => {
    expect(awsClientConfig({ AWS_PROFILE: 'dev' })).toEqual({});
  });
});

describe('the default chain of the Lambda bundles (lambda-credentials.ts)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(lambdaEnv)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('reads the environment, and only the environment', async () => {
    Object.assign(process.env, lambdaEnv);
    await expect(defaultProvider()()).resolves.toMatchObject({ accessKeyId: 'ASIAEXAMPLE', sessionToken: 'session' });

    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[name];
    await expect(defaultProvider()()).rejects.toThrow(/environment variable credentials/);
  });
});
