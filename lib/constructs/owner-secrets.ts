import { CfnOutput } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { secretIdVariableName } from '../config';

export interface OwnerSecretsProps {
  /** Braze and every partner whose flows are deployed. */
  owners: readonly string[];
  /** Secret names are `<namePrefix>/<owner>`. */
  namePrefix: string;
  /** Owners whose secret already exists: imported by complete ARN, never modified. */
  importedArns: Readonly<Record<string, string | undefined>>;
}

/**
 * One Secrets Manager secret per owner: a JSON object holding the inbound token partners present
 * (`inbound_token`) and the outbound credentials (`api_key`, `api_token` or `api_username` /
 * `api_password`). A created secret starts with a generated `inbound_token` only; the operator
 * adds the credentials with `aws secretsmanager put-secret-value`. Functions get the ARN in
 * `<OWNER>_SECRET_ID` and read access to their owner's secret alone.
 */
export class OwnerSecrets extends Construct {
  private readonly secrets = new Map<string, secretsmanager.ISecret>();

  constructor(scope: Construct, id: string, props: OwnerSecretsProps) {
    super(scope, id);
    for (const owner of props.owners) {
      const arn = props.importedArns[owner];
      const secret = arn
        ? secretsmanager.Secret.fromSecretCompleteArn(this, owner, arn)
        : new secretsmanager.Secret(this, owner, {
            secretName: `${props.namePrefix}/${owner}`,
            description: `braze-partner-bridge: ${owner} inbound token and API credentials (JSON)`,
            generateSecretString: {
              secretStringTemplate: '{}',
              generateStringKey: 'inbound_token',
              excludePunctuation: true,
              passwordLength: 40,
            },
          });
      this.secrets.set(owner, secret);
      new CfnOutput(this, `${owner}Arn`, { value: secret.secretArn, description: `Secret of ${owner}` });
    }
  }

  secretFor(owner: string): secretsmanager.ISecret {
    const secret = this.secrets.get(owner);
    if (!secret) throw new Error(`no secret deployed for ${owner}`);
    return secret;
  }

  /** `{ <OWNER>_SECRET_ID: arn }` and read access for the grantee. */
  grantRead(owner: string, grantee: iam.IGrantable): Record<string, string> {
    const secret = this.secretFor(owner);
    secret.grantRead(grantee);
    return { [secretIdVariableName(owner)]: secret.secretArn };
  }
}
