import { fromEnv } from '@aws-sdk/credential-provider-env';

/** What the functions give every AWS SDK client they create themselves. */
export interface AwsClientConfig {
  region?: string;
  credentials?: ReturnType<typeof fromEnv>;
}

/**
 * The region and credentials Lambda puts in every function's environment (AWS_REGION,
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN), given to the SDK clients
 * explicitly so that they never walk the SDK's default chain (SSO, ini files, credential process,
 * web identity, container and instance metadata). Where the environment holds no key (a shell
 * with a profile), nothing is set and an unbundled client resolves as usual; the Lambda bundles
 * hold no default chain at all (`lambda-credentials.ts`). The local runner and the tests pass
 * their own clients (an endpoint and static credentials) and never come here.
 */
export function awsClientConfig(env: Readonly<Record<string, string | undefined>> = process.env): AwsClientConfig {
  return {
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY ? { credentials: fromEnv() } : {}),
  };
}
