import { buildLikeLambda, packagesOf } from '../../bench/bundles';

/**
 * What an ingress bundle holds, from esbuild's metafile, built as the CDK app builds it (the same
 * options and aliases: bench/bundles.ts). Structural, not timed: `npm run bench` measures sizes and
 * import times.
 */
describe('an ingress bundle', () => {
  it('holds the SQS and Secrets Manager clients with environment credentials only: no default credential chain, no DynamoDB, no S3', async () => {
    const { bytes, metafile } = await buildLikeLambda('functions/seen/callback.ts', { write: false });
    const packages = packagesOf(metafile).map((p) => p.name);

    expect(packages).toEqual(expect.arrayContaining(['@aws-sdk/client-sqs', '@aws-sdk/client-secrets-manager', '@aws-sdk/credential-provider-env']));
    expect(Object.keys(metafile.inputs)).toContain('functions/core/lambda-credentials.ts');
    for (const unwanted of [
      '@aws-sdk/credential-provider-node',
      '@aws-sdk/credential-provider-ini',
      '@aws-sdk/credential-provider-sso',
      '@aws-sdk/credential-provider-process',
      '@aws-sdk/credential-provider-web-identity',
      '@aws-sdk/nested-clients',
      '@smithy/credential-provider-imds',
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-s3',
    ]) {
      expect(packages).not.toContain(unwanted);
    }
    // About 282 KB today, 414 KB with the default chain: far above this means something came back.
    expect(bytes).toBeLessThan(320 * 1024);
  });
});
