import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';

export interface ImportsBucketProps {
  /** Uploads (user data) are deleted this many days after they land. */
  expireAfterDays: number;
  /** Keep overwritten uploads as noncurrent versions, deleted after `expireAfterDays` as well. */
  versioned: boolean;
  /** How long the bucket's S3 server access logs are kept. */
  accessLogsExpireAfterDays: number;
}

/** Where server access logs of the imports bucket go, in the logs bucket. */
const ACCESS_LOG_PREFIX = 'imports/';

/**
 * The bucket S3-triggered jobs read their uploads from, one per stack whatever the number of
 * jobs (each job listens to its own prefix). Private (all public access blocked, bucket owner
 * owns every object, no ACLs), SSE-S3 encrypted, TLS 1.2+ only, uploads expire after
 * `expireAfterDays`, incomplete multipart uploads after a day. Server access logs go to a second
 * bucket with the same protections. Both are retained when the stack is deleted: CloudFormation
 * cannot delete a bucket that still holds objects, and uploads hold user data (docs/deploy.md).
 */
export class ImportsBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  /**
   * Role of the CDK's deploy-time handler that writes the bucket's notification configuration
   * (Custom::S3BucketNotifications): named here so its permissions are ours to see and test.
   */
  readonly notificationsHandlerRole: iam.Role;

  constructor(scope: Construct, id: string, props: ImportsBucketProps) {
    super(scope, id);
    // Let S3 log delivery write through a bucket policy (logging.s3.amazonaws.com, scoped to the
    // source bucket and account) instead of the legacy log-delivery ACL, which needs ACLs enabled.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    const privateBucket = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
    } satisfies s3.BucketProps;
    const abortIncompleteUploads: s3.LifecycleRule = { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) };

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...privateBucket,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogsExpireAfterDays) }, abortIncompleteUploads],
    });

    this.notificationsHandlerRole = new iam.Role(this, 'NotificationsHandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Deploy-time handler writing the imports bucket notification configuration (CDK Custom::S3BucketNotifications)',
    });

    const expire = Duration.days(props.expireAfterDays);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucket,
      versioned: props.versioned,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: ACCESS_LOG_PREFIX,
      notificationsHandlerRole: this.notificationsHandlerRole,
      lifecycleRules: [
        { id: 'expire-uploads', expiration: expire, ...(props.versioned ? { noncurrentVersionExpiration: expire } : {}) },
        ...(props.versioned ? [{ id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true }] : []),
        abortIncompleteUploads,
      ],
    });
  }
}
