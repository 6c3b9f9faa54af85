import { BatchGetItemCommand, BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from './aws-clients';
import type { Config } from './config';
import { ConfigError } from './errors';
import { chunk } from './pack';

/**
 * What has already been delivered, by key (a flow's dedupe id: an event id, a notification id and
 * status ...), for at least `ttlSeconds`. A consumer asks before a call and remembers after it
 * succeeds: a sender's retry that arrives later, in another batch, sends nothing twice. A crash
 * between the call and `remember` can still repeat one delivery (at least once, never dropped).
 */
export interface DedupeStore {
  /** The keys among `keys` already remembered and not yet expired. */
  seen(keys: readonly string[]): Promise<Set<string>>;
  remember(keys: readonly string[], ttlSeconds: number): Promise<void>;
}

/** The variable holding the dedupe table's name in AWS (set by the stack on consumers that dedupe). */
export const DEDUPE_TABLE_VARIABLE = 'DEDUPE_TABLE_NAME';

/**
 * AWS: a DynamoDB table keyed by `pk`, items expiring through its TTL attribute `expires_at`
 * (DynamoDB deletes them within a day or two of expiry; `seen` ignores expired ones meanwhile).
 */
export class DynamoDedupeStore implements DedupeStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = new DynamoDBClient({}),
    private readonly now: () => number = Date.now,
  ) {}

  async seen(keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const nowSeconds = Math.floor(this.now() / 1000);
    for (const batch of chunk([...new Set(keys)], 100)) {
      let request: Record<string, { Keys: { pk: { S: string } }[]; ProjectionExpression?: string }> | undefined = {
        [this.tableName]: { Keys: batch.map((key) => ({ pk: { S: key } })), ProjectionExpression: 'pk, expires_at' },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 5; attempt++) {
        const answer = await this.client.send(new BatchGetItemCommand({ RequestItems: request }));
        for (const item of answer.Responses?.[this.tableName] ?? []) {
          const key = item.pk?.S;
          if (key && Number(item.expires_at?.N ?? 0) > nowSeconds) found.add(key);
        }
        request = answer.UnprocessedKeys as typeof request;
      }
      if (request && Object.keys(request).length > 0) throw new Error('DynamoDB left keys unprocessed');
    }
    return found;
  }

  async remember(keys: readonly string[], ttlSeconds: number): Promise<void> {
    const expires = String(Math.floor(this.now() / 1000) + ttlSeconds);
    for (const batch of chunk([...new Set(keys)], 25)) {
      let request: Record<string, { PutRequest: { Item: Record<string, { S: string } | { N: string }> } }[]> | undefined = {
        [this.tableName]: batch.map((key) => ({ PutRequest: { Item: { pk: { S: key }, expires_at: { N: expires } } } })),
      };
      for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 5; attempt++) {
        const answer = await this.client.send(new BatchWriteItemCommand({ RequestItems: request }));
        request = answer.UnprocessedItems as typeof request;
      }
      if (request && Object.keys(request).length > 0) throw new Error('DynamoDB left items unwritten');
    }
  }
}

/** The store a consumer uses in AWS: the table the stack names in DEDUPE_TABLE_NAME. */
export function dedupeStoreFromEnv(config: Pick<Config, 'env'>): DedupeStore {
  const table = config.env[DEDUPE_TABLE_VARIABLE];
  if (!table) throw new ConfigError(`${DEDUPE_TABLE_VARIABLE} is not set`);
  return new DynamoDedupeStore(table, new DynamoDBClient(awsClientConfig(config.env)));
}
