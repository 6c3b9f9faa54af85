import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { NAG_REASONS } from '../../lib/nag';
import { configurations, synthStack } from './stack-fixtures';

type Suppression = { id: string; reason: string; applies_to?: unknown[] };

describe.each(configurations)('cdk-nag AwsSolutions checks on the %s configuration', (_name, config) => {
  const { stack, template } = synthStack(config(), { nag: true });
  const annotations = Annotations.fromStack(stack);

  it('leave no unsuppressed error', () => {
    expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('leave no unsuppressed warning', () => {
    expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('acknowledge findings only with a written reason', () => {
    const suppressions = Object.values(
      template.toJSON().Resources as Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: Suppression[] } } }>,
    ).flatMap((resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? []);

    expect(suppressions.length).toBeGreaterThan(0);
    for (const { id, reason, applies_to } of suppressions) {
      expect(Object.keys(NAG_REASONS)).toContain(id);
      expect(reason.length).toBeGreaterThan(100);
      // Wildcard and managed-policy findings are acknowledged for the exact finding only.
      if (id === 'AwsSolutions-IAM4' || id === 'AwsSolutions-IAM5') expect(applies_to).toHaveLength(1);
    }
  });
});
