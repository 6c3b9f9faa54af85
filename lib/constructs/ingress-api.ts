import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { IngressFlow } from '../../functions/catalogue';

interface IngressRoute {
  flow: IngressFlow;
  handler: lambda.IFunction;
}

export interface IngressApiProps {
  routes: readonly IngressRoute[];
  /** Stage-wide default throttle; each route's own throttle comes from the catalogue. */
  defaultThrottle: { rateLimit: number; burstLimit: number };
  domain?: { name: string; certificateArn: string };
  logRetentionDays: number;
}

/** The route key API Gateway uses (and its `Route` metric dimension): `POST /seen/callback`. */
const routeKey = (flow: IngressFlow): string => `${flow.method} ${flow.path}`;

/**
 * Access log fields: ids, route, status and timings. No query string (senders that can only set a
 * URL pass their token as `?token=`), no headers, no body.
 */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  errorMessage: '$context.error.message',
});

/**
 * The HTTP API partners and Braze webhooks call: one route per ingress flow, each to its own
 * function (authentication is the function's: per-partner token or signature, SPEC section 3),
 * access logs in their own log group, stage-wide and per-route throttling, detailed (per-route)
 * metrics, and an optional custom domain.
 */
export class IngressApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** Base URL callers use (custom domain when configured), without a trailing slash. */
  readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: IngressApiProps) {
    super(scope, id);

    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'braze-partner-bridge ingress: partner callbacks and Braze webhooks',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      detailedMetricsEnabled: true,
      throttle: props.defaultThrottle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });

    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number; DetailedMetricsEnabled: boolean }> = {};
    const cfnStage = this.stage.node.defaultChild as apigw.CfnStage;
    for (const { flow, handler } of props.routes) {
      const [route] = this.api.addRoutes({
        path: flow.path,
        methods: [apigw.HttpMethod[flow.method]],
        integration: new HttpLambdaIntegration(`${flow.id}Integration`, handler),
      });
      routeSettings[routeKey(flow)] = {
        ThrottlingRateLimit: flow.throttle.rateLimit,
        ThrottlingBurstLimit: flow.throttle.burstLimit,
        DetailedMetricsEnabled: true,
      };
      // Route settings name routes by key: the routes must exist before the stage refers to them.
      if (route) cfnStage.node.addDependency(route);
    }
    cfnStage.addPropertyOverride('RouteSettings', routeSettings);

    if (props.domain) {
      const domainName = new apigw.DomainName(this, 'Domain', {
        domainName: props.domain.name,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
      });
      new apigw.ApiMapping(this, 'Mapping', { api: this.api, domainName, stage: this.stage });
      new CfnOutput(this, 'DomainTarget', {
        value: domainName.regionalDomainName,
        description: `Point ${props.domain.name} (CNAME or alias) here`,
      });
      this.baseUrl = `https://${props.domain.name}`;
    } else {
      this.baseUrl = this.api.apiEndpoint;
    }
    new CfnOutput(this, 'BaseUrl', { value: this.baseUrl, description: 'Base URL of every route' });
  }

  /** Per-route API metrics (detailed metrics are on). */
  routeMetric(flow: IngressFlow, metricName: 'Count' | '4xx' | '5xx'): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensionsMap: { ApiId: this.api.apiId, Stage: '$default', Route: routeKey(flow) },
      statistic: 'Sum',
      label: `${flow.id} ${metricName}`,
    });
  }
}
