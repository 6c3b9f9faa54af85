import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from './aws-clients';
import type { Config } from './config';
import { ConfigError } from './errors';

/**
 * Where a scheduled job's run saves how far it got, so that the next step (or a retried one, after
 * a crash or a Lambda timeout) resumes there instead of starting over. One item per run; the state
 * is small (positions and counts, never a profile).
 */
export interface JobStateStore {
  load<T>(job: string, runId: string): Promise<T | undefined>;
  save<T>(job: string, runId: string, state: T): Promise<void>;
}

/** The variable holding the job state table's name in AWS (set by the stack on scheduled jobs). */
export const JOB_STATE_TABLE_VARIABLE = 'JOB_STATE_TABLE_NAME';

/** A run's state is kept this long after its last save (the table's TTL deletes it then). */
export const JOB_STATE_TTL_SECONDS = 14 * 24 * 3600;

/**
 * AWS: a DynamoDB table keyed by `pk` (`job:<job>:<run>`), the state as a JSON string, expiring
 * through the TTL attribute `expires_at`. Reads are strongly consistent: a retried step must see
 * the last save of the step before it.
 */
export class DynamoJobStateStore implements JobStateStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = new DynamoDBClient({}),
    private readonly now: () => number = Date.now,
  ) {}

  async load<T>(job: string, runId: string): Promise<T | undefined> {
    const answer = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: key(job, runId) } }, ConsistentRead: true }));
    const text = answer.Item?.state?.S;
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async save<T>(job: string, runId: string, state: T): Promise<void> {
    const expires = String(Math.floor(this.now() / 1000) + JOB_STATE_TTL_SECONDS);
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { pk: { S: key(job, runId) }, state: { S: JSON.stringify(state) }, expires_at: { N: expires } },
      }),
    );
  }
}

const key = (job: string, runId: string) => `job:${job}:${runId}`;

/** The store a scheduled job uses in AWS: the table the stack names in JOB_STATE_TABLE_NAME. */
export function jobStateStoreFromEnv(config: Pick<Config, 'env'>): JobStateStore {
  const table = config.env[JOB_STATE_TABLE_VARIABLE];
  if (!table) throw new ConfigError(`${JOB_STATE_TABLE_VARIABLE} is not set`);
  return new DynamoJobStateStore(table, new DynamoDBClient(awsClientConfig(config.env)));
}
