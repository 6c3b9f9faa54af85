import { Match } from 'aws-cdk-lib/assertions';
import { jobs, uploadJobs } from '../../functions/catalogue';
import { parseBridgeConfig } from '../../lib/config';
import { JOB_RETRY_ATTEMPTS } from '../../lib/constructs/import-job';
import { fullConfig, idOf, lyticsConfig, lyticsInput, minimalConfig, synthStack } from './stack-fixtures';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string };

const DAY = 24 * 3600;

describe('imports bucket', () => {
  const { stack, template } = synthStack(lyticsConfig());
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const imports = stack.imports!;
  const bucketId = idOf(stack, imports.bucket);
  const logsId = idOf(stack, imports.accessLogs);

  it('is one bucket for every job, plus its access logs bucket', () => {
    expect(stack.plan.jobs.length).toBeGreaterThan(0);
    template.resourceCountIs('AWS::S3::Bucket', 2);
  });

  it.each([
    ['imports', () => bucketId],
    ['access logs', () => logsId],
  ])('keeps the %s bucket private: public access blocked, no ACLs, SSE-S3', (_name, id) => {
    expect(resources[id()]!.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    expect(resources[id()]!.Properties.AccessControl).toBeUndefined();
  });

  it.each([
    ['imports', () => bucketId],
    ['access logs', () => logsId],
  ])('refuses plain HTTP and TLS below 1.2 on the %s bucket', (_name, id) => {
    const bucket = { 'Fn::GetAtt': [id(), 'Arn'] };
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: [bucket, { 'Fn::Join': ['', [bucket, '/*']] }],
          }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('deletes uploads after 30 days by default, and incomplete multipart uploads after a day', () => {
    expect(resources[bucketId]!.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-uploads', ExpirationInDays: 30, Status: 'Enabled' },
      { Id: 'abort-incomplete-multipart-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
    ]);
    expect(resources[bucketId]!.Properties.VersioningConfiguration).toBeUndefined();
  });

  it('logs access to the logs bucket, which S3 log delivery alone may write, from this bucket and account only', () => {
    expect(resources[bucketId]!.Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'imports/' });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logsId, 'Arn'] }, '/imports/*']] },
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ]),
      },
    });
    expect(resources[logsId]!.Properties.LifecycleConfiguration.Rules).toContainEqual({ Id: 'expire-access-logs', ExpirationInDays: 90, Status: 'Enabled' });
  });

  it('keeps both buckets when the stack is deleted (CloudFormation cannot delete a bucket holding objects)', () => {
    for (const id of [bucketId, logsId]) expect(resources[id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('outputs its name', () => {
    template.hasOutput('ImportsBucketName', { Value: { Ref: bucketId } });
  });

  it('follows configured expiry and versioning, expiring old versions too', () => {
    const full = synthStack(fullConfig());
    const bucket = full.template.toJSON().Resources[idOf(full.stack, full.stack.imports!.bucket)] as Resource;
    const logs = full.template.toJSON().Resources[idOf(full.stack, full.stack.imports!.accessLogs)] as Resource;

    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        { Id: 'expire-uploads', ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 7 }, Status: 'Enabled' },
        { Id: 'remove-expired-delete-markers', ExpiredObjectDeleteMarker: true, Status: 'Enabled' },
      ]),
    );
    expect(logs.Properties.LifecycleConfiguration.Rules).toContainEqual({ Id: 'expire-access-logs', ExpirationInDays: 365, Status: 'Enabled' });
  });
});

describe.each(uploadJobs.map((job) => [job.id, job] as const))('upload job %s', (_id, definition) => {
  const config = parseBridgeConfig({ ...lyticsInput, partners: { [definition.destination]: { enabled: true } } });
  const { stack, template } = synthStack(config);
  const job = stack.jobs.get(definition.id)!;
  const fnId = idOf(stack, job.function.function);
  const bucketId = idOf(stack, stack.imports!.bucket);
  const dlqId = idOf(stack, job.deadLetterQueue);

  it('is started by objects created under its prefix with its suffix, and nothing else', () => {
    const [notifications] = Object.values(template.findResources('Custom::S3BucketNotifications')) as Resource[];

    expect(notifications!.Properties.BucketName).toEqual({ Ref: bucketId });
    expect(notifications!.Properties.NotificationConfiguration).toEqual({
      LambdaFunctionConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: {
            Key: {
              FilterRules: expect.arrayContaining([
                { Name: 'prefix', Value: definition.trigger.prefix },
                { Name: 'suffix', Value: definition.trigger.suffix },
              ]),
            },
          },
          LambdaFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] },
        },
      ],
    });
  });

  it('is sized from the catalogue', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp(`^${definition.id}:`),
      Timeout: definition.timeoutSeconds,
      MemorySize: definition.memoryMb,
    });
  });

  it('is retried twice by Lambda, then parks the event in its own DLQ', () => {
    expect(JOB_RETRY_ATTEMPTS).toBe(2);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
  });

  it('parks in a DLQ kept 14 days, encrypted, TLS only', () => {
    expect(template.toJSON().Resources[dlqId].Properties).toEqual({ MessageRetentionPeriod: 14 * DAY, SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('may read objects under its prefix only: s3:GetObject on bucket/<prefix>*, no list, no write', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const s3Statements = policies
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === idOf(stack, job.function.role)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));

    expect(s3Statements).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${definition.trigger.prefix}*`]] } },
    ]);
  });

  it('may be invoked by the imports bucket', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [bucketId, 'Arn'] },
    });
  });

  it('outputs where to upload, its function and its DLQ', () => {
    const key = definition.id.replace(/[^A-Za-z0-9]/g, '');
    template.hasOutput(`ImportPrefix${key}`, { Value: { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, `/${definition.trigger.prefix}`]] } });
    template.hasOutput(`ImportJob${key}FunctionName`, { Value: { Ref: fnId } });
    template.hasOutput(`ImportJob${key}DlqUrl`, { Value: { Ref: dlqId } });
    template.hasOutput(`ImportJob${key}DlqArn`, { Value: { 'Fn::GetAtt': [dlqId, 'Arn'] } });
  });
});

describe('without an enabled job owner', () => {
  it('deploys no imports bucket, no job, no notification and no job alarm', () => {
    const { stack, template } = synthStack(minimalConfig());

    expect(jobs.every((job) => job.destination !== 'seen')).toBe(true);
    expect(stack.jobs.size).toBe(0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1); // the SEEN drain's, no job's
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('ImportsBucketName');
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toContain('job-errors');
  });
});
