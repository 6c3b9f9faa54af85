import { CfnOutput } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { inboundSecretIdVariableName, secretIdVariableName } from '../config';

interface OwnerSecretSpec {
  id: string;
  /** Whether the partner calls us (an inbound-token secret is deployed for it). */
  inbound: boolean;
  /** Existing secrets to import by complete ARN (never modified). */
  importedArn?: string;
  importedInboundArn?: string;
}

export interface OwnerSecretsProps {
  /** Braze and every partner whose flows are deployed. */
  owners: readonly OwnerSecretSpec[];
  /** Secret names are `<namePrefix>/<owner>` and `<namePrefix>/<owner>/inbound`. */
  namePrefix: string;
}

/**
 * Per partner, two Secrets Manager secrets, so that what answers the Internet cannot read what
 * calls partners: `<prefix>/<owner>` holds the outbound credentials (`api_key`, `api_token` or
 * `api_username` / `api_password`), created as an empty JSON object that the operator fills with
 * `aws secretsmanager put-secret-value`; `<prefix>/<owner>/inbound` holds the `inbound_token`
 * partners present, generated at creation. Ingress functions may read the inbound secret only;
 * consumers and jobs the outbound one only.
 */
export class OwnerSecrets extends Construct {
  private readonly outbound = new Map<string, secretsmanager.ISecret>();
  private readonly inbound = new Map<string, secretsmanager.ISecret>();

  constructor(scope: Construct, id: string, props: OwnerSecretsProps) {
    super(scope, id);
    for (const owner of props.owners) {
      const outbound = owner.importedArn
        ? secretsmanager.Secret.fromSecretCompleteArn(this, owner.id, owner.importedArn)
        : new secretsmanager.Secret(this, owner.id, {
            secretName: `${props.namePrefix}/${owner.id}`,
            description: `braze-partner-bridge: ${owner.id} API credentials (JSON), read by its delivery functions only`,
            // Nothing secret: an empty object to fill with put-secret-value.
            secretObjectValue: {},
          });
      this.outbound.set(owner.id, outbound);
      new CfnOutput(this, `${owner.id}Arn`, { value: outbound.secretArn, description: `API credentials of ${owner.id}` });
      if (!owner.inbound) continue;
      const inbound = owner.importedInboundArn
        ? secretsmanager.Secret.fromSecretCompleteArn(this, `${owner.id}-inbound`, owner.importedInboundArn)
        : new secretsmanager.Secret(this, `${owner.id}-inbound`, {
            secretName: `${props.namePrefix}/${owner.id}/inbound`,
            description: `braze-partner-bridge: the token ${owner.id} presents to the bridge (JSON inbound_token), read by its ingress functions only`,
            generateSecretString: {
              secretStringTemplate: '{}',
              generateStringKey: 'inbound_token',
              excludePunctuation: true,
              passwordLength: 40,
            },
          });
      this.inbound.set(owner.id, inbound);
      new CfnOutput(this, `${owner.id}InboundArn`, { value: inbound.secretArn, description: `Inbound token of ${owner.id}` });
    }
  }

  secretFor(owner: string): secretsmanager.ISecret {
    const secret = this.outbound.get(owner);
    if (!secret) throw new Error(`no secret deployed for ${owner}`);
    return secret;
  }

  inboundSecretFor(owner: string): secretsmanager.ISecret {
    const secret = this.inbound.get(owner);
    if (!secret) throw new Error(`no inbound secret deployed for ${owner}`);
    return secret;
  }

  /** `{ <OWNER>_SECRET_ID: arn }` and read access to the outbound credentials. */
  grantRead(owner: string, grantee: iam.IGrantable): Record<string, string> {
    const secret = this.secretFor(owner);
    secret.grantRead(grantee);
    return { [secretIdVariableName(owner)]: secret.secretArn };
  }

  /** `{ <OWNER>_INBOUND_SECRET_ID: arn }` and read access to the inbound token alone. */
  grantInboundRead(owner: string, grantee: iam.IGrantable): Record<string, string> {
    const secret = this.inboundSecretFor(owner);
    secret.grantRead(grantee);
    return { [inboundSecretIdVariableName(owner)]: secret.secretArn };
  }
}
