import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from './aws-clients';
import type { Config } from './config';
import { ConfigError } from './errors';
import { chunk, mapWithConcurrency } from './pack';

/** What a claim found for each key asked. */
export interface Claims {
  /** Keys this caller now holds: send them, then `confirm` (delivered) or `release` (not delivered). */
  claimed: Set<string>;
  /** Keys delivered before (within their time to live): done, never sent again. */
  delivered: Set<string>;
  /** Keys another consumer holds right now (a concurrent copy): neither sent nor dropped; try later. */
  inFlight: Set<string>;
}

/**
 * What has been delivered, by key (a flow's dedupe id: an event id, a webhook id and target ...),
 * claimed before sending (after Powertools' idempotency utility: an in-progress record written
 * with a condition, completed after success, deleted after failure). Two concurrent copies of a
 * key cannot both be sent: only one conditional write succeeds. A crash between the call and
 * `confirm` leaves the in-flight marker, which expires after its short time to live, so the record
 * is delivered again (at least once, never dropped).
 */
export interface DedupeStore {
  /** Claims each key not delivered and not in flight, for `inFlightSeconds`. */
  claim(keys: readonly string[], inFlightSeconds: number): Promise<Claims>;
  /** Marks claimed keys delivered, for `ttlSeconds`. */
  confirm(keys: readonly string[], ttlSeconds: number): Promise<void>;
  /** Gives claimed keys up (the call failed, or the records were refused and parked: a redrive must send them). */
  release(keys: readonly string[]): Promise<void>;
}

/** The variable holding the dedupe table's name in AWS (set by the stack on consumers that dedupe). */
export const DEDUPE_TABLE_VARIABLE = 'DEDUPE_TABLE_NAME';

/** Conditional writes in flight at once for one claim. */
const CLAIM_CONCURRENCY = 16;

/**
 * AWS: a DynamoDB table keyed by `pk`, items `{state: 'in_flight' | 'delivered', expires_at}`
 * expiring through its TTL attribute `expires_at` (DynamoDB deletes them within a day or two of
 * expiry; every read and condition here ignores expired ones meanwhile).
 */
export class DynamoDedupeStore implements DedupeStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = new DynamoDBClient({}),
    private readonly now: () => number = Date.now,
  ) {}

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  async claim(keys: readonly string[], inFlightSeconds: number): Promise<Claims> {
    const claims: Claims = { claimed: new Set(), delivered: new Set(), inFlight: new Set() };
    const now = this.nowSeconds();
    const lost: string[] = [];
    await mapWithConcurrency([...new Set(keys)], CLAIM_CONCURRENCY, async (key) => {
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { pk: { S: key }, state: { S: 'in_flight' }, expires_at: { N: String(now + inFlightSeconds) } },
            ConditionExpression: 'attribute_not_exists(pk) OR expires_at <= :now',
            ExpressionAttributeValues: { ':now': { N: String(now) } },
          }),
        );
        claims.claimed.add(key);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        lost.push(key);
      }
    });
    // Someone holds these: delivered, or another copy in flight.
    for (const [key, item] of await this.read(lost)) {
      if (item.state === 'delivered') claims.delivered.add(key);
      else claims.inFlight.add(key);
    }
    // A key whose holder expired or released between the write and the read: let it be tried later.
    for (const key of lost) if (!claims.delivered.has(key)) claims.inFlight.add(key);
    return claims;
  }

  async confirm(keys: readonly string[], ttlSeconds: number): Promise<void> {
    const expires = String(this.nowSeconds() + ttlSeconds);
    await this.write(keys.map((key) => ({ PutRequest: { Item: { pk: { S: key }, state: { S: 'delivered' }, expires_at: { N: expires } } } })));
  }

  async release(keys: readonly string[]): Promise<void> {
    await this.write(keys.map((key) => ({ DeleteRequest: { Key: { pk: { S: key } } } })));
  }

  /**
   * Gives up every in-flight claim of the table: for a single process that owns the table (npm
   * start, one per DATA_DIR) when it starts, since any claim still in flight then belongs to a run
   * that died, and its messages should be delivered at once, not after the claim expires. Never
   * in AWS, where consumers run side by side. Resolves with how many were given up.
   */
  async releaseAllInFlight(): Promise<number> {
    const keys: string[] = [];
    let start: Record<string, { S: string }> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#state = :inFlight',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':inFlight': { S: 'in_flight' } },
          ProjectionExpression: 'pk',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) if (item.pk?.S) keys.push(item.pk.S);
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
    await this.release(keys);
    return keys.length;
  }

  /** The live (not expired) items among `keys`. */
  private async read(keys: readonly string[]): Promise<Map<string, { state: string }>> {
    const found = new Map<string, { state: string }>();
    const now = this.nowSeconds();
    for (const batch of chunk([...new Set(keys)], 100)) {
      let request:
        | Record<string, { Keys: { pk: { S: string } }[]; ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> }>
        | undefined = {
        [this.tableName]: {
          Keys: batch.map((key) => ({ pk: { S: key } })),
          ProjectionExpression: 'pk, #state, expires_at',
          ExpressionAttributeNames: { '#state': 'state' },
        },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 5; attempt++) {
        const answer = await this.client.send(new BatchGetItemCommand({ RequestItems: request }));
        for (const item of answer.Responses?.[this.tableName] ?? []) {
          const key = item.pk?.S;
          // Items written before states existed were delivered markers.
          if (key && Number(item.expires_at?.N ?? 0) > now) found.set(key, { state: item.state?.S ?? 'delivered' });
        }
        request = answer.UnprocessedKeys as typeof request;
      }
      if (request && Object.keys(request).length > 0) throw new Error('DynamoDB left keys unprocessed');
    }
    return found;
  }

  private async write(requests: readonly Record<string, unknown>[]): Promise<void> {
    for (const batch of chunk(requests, 25)) {
      let request: Record<string, Record<string, unknown>[]> | undefined = { [this.tableName]: batch };
      for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 5; attempt++) {
        const answer = await this.client.send(new BatchWriteItemCommand({ RequestItems: request as never }));
        request = answer.UnprocessedItems as typeof request;
      }
      if (request && Object.keys(request).length > 0) throw new Error('DynamoDB left items unwritten');
    }
  }
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException');
}

/** The store a consumer uses in AWS: the table the stack names in DEDUPE_TABLE_NAME. */
export function dedupeStoreFromEnv(config: Pick<Config, 'env'>): DedupeStore {
  const table = config.env[DEDUPE_TABLE_VARIABLE];
  if (!table) throw new ConfigError(`${DEDUPE_TABLE_VARIABLE} is not set`);
  return new DynamoDedupeStore(table, new DynamoDBClient(awsClientConfig(config.env)));
}
