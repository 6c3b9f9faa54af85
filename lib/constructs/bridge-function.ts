import path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/core/observability';

/**
 * How function code is produced. `esbuild` (the default) bundles each handler with the local
 * esbuild, no Docker; tests that only inspect the template may pass prebuilt code instead.
 */
export type CodeSource = { kind: 'esbuild' } | { kind: 'prebuilt'; code: (entry: string) => lambda.Code };

export interface BridgeFunctionProps {
  /** Handler module, relative to the project root (from the catalogue). */
  entry: string;
  /** The `flow` its logs and metrics carry (BRIDGE_FLOW_ID): one module may serve several queues. */
  flowId: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
  logLevel: string;
  logRetentionDays: number;
  projectRoot: string;
  codeSource: CodeSource;
  reservedConcurrentExecutions?: number;
}

/** ESM output still meets CommonJS dependencies that call `require`: give them one. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * NODE_OPTIONS of every function, none (bench/bundles.ts times the bundles with the same). Not
 * `--enable-source-maps`: Node would read and parse each bundle's source map (about 0.5 MB) at every
 * cold start, 15-20 ms of an ingress's 80 ms import. The functions log errors by name and message,
 * never a stack; the maps stay in the assets (`index.mjs.map`) to read a crash's stack with. Set it
 * here again to have Node map stacks in the logs, at that cost.
 */
export const LAMBDA_NODE_OPTIONS: string = '';

/**
 * Modules every bundle takes from elsewhere (esbuild `alias`; paths from the project root, where
 * esbuild runs): the AWS SDK's default credential chain, which each client's runtimeConfig imports
 * statically, becomes the environment provider alone (Lambda always sets the credentials there;
 * see functions/core/lambda-credentials.ts). bench/bundles.ts builds with the same aliases.
 */
export const LAMBDA_BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './functions/core/lambda-credentials.ts',
};

/**
 * One Lambda function as every function of the bridge is built: Node.js 24 on arm64, bundled to
 * minified ESM with source maps, its own log group with a retention, and its own role that may
 * only write to that log group until the caller grants more (queue, secret).
 */
export class BridgeFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.logGroup.grantWrite(this.role);

    const code = props.codeSource.kind === 'prebuilt' ? { code: props.codeSource.code(props.entry), handler: 'index.handler' } : { handler: 'handler' };

    this.function = new NodejsFunction(this, 'Function', {
      ...code,
      entry: path.join(props.projectRoot, props.entry),
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        LOG_LEVEL: props.logLevel,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...(LAMBDA_NODE_OPTIONS ? { NODE_OPTIONS: LAMBDA_NODE_OPTIONS } : {}),
        ...props.environment,
        BRIDGE_FLOW_ID: props.flowId,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The handlers are tested against the locked AWS SDK; bundle it rather than take the runtime's.
        externalModules: [],
        esbuildArgs: { '--alias': Object.entries(LAMBDA_BUNDLE_ALIASES).map(([from, to]) => `${from}=${to}`) },
        logLevel: LogLevel.WARNING,
      },
    });
  }
}
