import path from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BridgeStack } from './bridge-stack';
import { type BridgeConfig, BridgeConfigError, loadBridgeConfig } from './config';

/** `npx cdk synth | deploy | destroy`: one stack, configured by cdk.json context (see lib/config.ts). */
const app = new App();

/** A configuration error (read here, or found while planning the stack: a schedule, a partner a job reads) names the setting, without a stack trace. */
function orExit<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof BridgeConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const config: BridgeConfig = orExit(() => loadBridgeConfig(app.node));

orExit(
  () =>
    new BridgeStack(app, config.stackName, {
      config,
      projectRoot: path.resolve(import.meta.dirname, '..'),
      env: {
        account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
        region: config.region ?? process.env.CDK_DEFAULT_REGION,
      },
    }),
);
// AwsSolutions findings fail the synth unless acknowledged with a reason (lib/nag.ts).
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
