import { Match } from 'aws-cdk-lib/assertions';
import { ingressFlows } from '../../functions/catalogue';
import { isOwnerEnabled, parseBridgeConfig } from '../../lib/config';
import { fullConfig, idOf, lyticsConfig, minimalConfig, minimalInput, synthStack } from './stack-fixtures';

const routeKeys = (template: ReturnType<typeof synthStack>['template']) =>
  Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
    .map((r) => r.Properties.RouteKey as string)
    .sort();
const keyOf = (flow: (typeof ingressFlows)[number]) => `${flow.method} ${flow.path}`;

describe('ingress API', () => {
  const { stack, template } = synthStack(minimalConfig());
  /** Minimal configuration: Braze + SEEN, so the SEEN flows. */
  const seenFlows = stack.plan.flows;

  it('is an HTTP API', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  });

  it.each(seenFlows.map((flow) => [flow.id, flow] as const))('routes %s to its own function', (_id, flow) => {
    const fnId = idOf(stack, stack.ingressFunctions.get(flow.id)!.function);
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration', {
      Properties: { IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] }, PayloadFormatVersion: '2.0' },
    });
    const [integrationId] = Object.keys(integrations);

    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: `${flow.method} ${flow.path}`,
      AuthorizationType: 'NONE',
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
    });
  });

  it('has one route per enabled flow and no catch-all', () => {
    expect(seenFlows.length).toBeGreaterThan(0);
    expect(seenFlows.every((flow) => flow.source === 'seen')).toBe(true);
    expect(routeKeys(template)).toEqual(seenFlows.map(keyOf).sort());
  });

  it('has a route for every catalogue flow when every partner is enabled', () => {
    expect(routeKeys(synthStack(fullConfig()).template)).toEqual(ingressFlows.map(keyOf).sort());
  });

  it('has the Lytics routes, each to its own function, when Lytics is enabled', () => {
    const lytics = synthStack(lyticsConfig());
    const lyticsFlows = ingressFlows.filter((flow) => flow.source === 'lytics');

    expect(lyticsFlows.map(keyOf)).toEqual(expect.arrayContaining(['POST /lytics/audiences', 'POST /lytics/users']));
    expect(routeKeys(lytics.template)).toEqual(lyticsFlows.map(keyOf).sort());
    for (const flow of lyticsFlows) {
      const fnId = idOf(lytics.stack, lytics.stack.ingressFunctions.get(flow.id)!.function);
      lytics.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] } });
      lytics.template.hasOutput(`Url${flow.id.replace(/[^A-Za-z0-9]/g, '')}`, {});
    }
  });

  it('has no Lytics route when Lytics is disabled', () => {
    const config = parseBridgeConfig({ ...minimalInput, partners: { ...minimalInput.partners, lytics: { enabled: false } } });

    expect(isOwnerEnabled(config, 'lytics')).toBe(false);
    expect(routeKeys(synthStack(config).template).filter((key) => key.includes('/lytics/'))).toEqual([]);
    expect(routeKeys(template).filter((key) => key.includes('/lytics/'))).toEqual([]);
  });

  it('throttles the stage by default and each route by its catalogue throttle', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400, DetailedMetricsEnabled: true },
      RouteSettings: Object.fromEntries(
        seenFlows.map((f) => [
          `${f.method} ${f.path}`,
          { ThrottlingRateLimit: f.throttle.rateLimit, ThrottlingBurstLimit: f.throttle.burstLimit, DetailedMetricsEnabled: true },
        ]),
      ),
    });
  });

  it('creates the stage after the routes its settings name', () => {
    const [stage] = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
    const routeIds = Object.keys(template.findResources('AWS::ApiGatewayV2::Route'));

    expect(stage!.DependsOn).toEqual(expect.arrayContaining(routeIds));
  });

  it('writes access logs to a log group with retention, without query strings', () => {
    const logGroupId = idOf(stack, stack.api.accessLogs);

    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        Format: Match.stringLikeRegexp('"routeKey":"\\$context.routeKey"'),
      },
    });
    const [stage] = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stage!.Properties.AccessLogSettings.Format).not.toMatch(/querystring|\$context\.path|header/i);
  });

  it('has no custom domain unless configured', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
  });

  it('maps a configured custom domain to the stage', () => {
    const full = synthStack(fullConfig()).template;

    full.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'bridge.example.com',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: Match.stringLikeRegexp('^arn:aws:acm:') })],
    });
    full.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { DomainName: { Ref: Match.anyValue() }, Stage: '$default' });
    full.hasOutput('Urlseencallback', { Value: 'https://bridge.example.com/seen/callback' });
  });
});
