import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { awsClientConfig } from './aws-clients';
import type { Config } from './config';
import { BridgeError, ConfigError } from './errors';
import { formatPath } from './validation';

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
const JOB_STATE_TTL_SECONDS = 14 * 24 * 3600;

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

/** A run's saved state this code cannot read: saved by another version of the state, or malformed. */
export class JobStateError extends BridgeError {}

/**
 * A run's state, checked before anything uses it: a state saved with another `version` (a redrive
 * after a deploy that changed the state) fails naming both versions, and a malformed one naming its
 * first bad field, so a step fails at its start instead of halfway through the work. Messages name
 * versions and fields, never values (a state may hold a presigned URL). Undefined for a new run.
 */
export async function loadCheckedState<S extends z.ZodMiniType<{ version: number }>>(
  store: JobStateStore,
  job: string,
  runId: string,
  expected: { version: number; schema: S },
): Promise<z.infer<S> | undefined> {
  const saved = await store.load<unknown>(job, runId);
  if (saved === undefined) return undefined;
  const where = `job state of ${job} run ${runId}`;
  const version = typeof saved === 'object' && saved !== null ? (saved as { version?: unknown }).version : undefined;
  if (version !== expected.version) {
    throw new JobStateError(`${where}: saved as version ${describeVersion(version)}, this code reads version ${expected.version}; start a new run`);
  }
  const parsed = z.safeParse(expected.schema, saved);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const at = issue.path.length > 0 ? `field ${formatPath(issue.path)}` : 'the state';
  throw new JobStateError(`${where} (version ${expected.version}): ${at}: ${issue.message}`);
}

const describeVersion = (version: unknown): string =>
  typeof version === 'number' ? String(version) : version === undefined ? '(none)' : `(a ${typeof version})`;
