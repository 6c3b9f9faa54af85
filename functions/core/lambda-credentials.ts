import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias:
 * `LAMBDA_BUNDLE_ALIASES` in lib/constructs/bridge-function.ts). Every SDK client's
 * `runtimeConfig` imports that default chain statically, even when the client is given
 * `credentials`, so esbuild cannot drop it; with its SSO, ini, process, web identity, container
 * and IMDS providers and the STS / SSO / sign-in clients they use, it was about 130 KB of the
 * 410 KB an ingress bundle weighed. In Lambda the credentials are always in the environment: this
 * is the chain's first link, alone. Never imported by the code itself, so tests and `npm start`
 * (unbundled) keep the SDK's own chain.
 */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
