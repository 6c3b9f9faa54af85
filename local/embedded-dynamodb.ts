import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DynamoDedupeStore } from '../functions/core/dedupe';

export interface EmbeddedDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** The dedupe table as the stack creates it (key `pk`), and the same store the Lambdas use over it. */
  dedupeStore: () => Promise<DynamoDedupeStore>;
  stop: () => Promise<void>;
}

export const LOCAL_DEDUPE_TABLE = 'bpb-dedupe';

/**
 * dynalite (a DynamoDB implementation on LevelDB, in memory here) on a free loopback port, with a
 * real SDK client pointed at it: `npm start` and the tests run the very DynamoDB code path of the
 * Lambdas, as fauxqs stands in for SQS.
 */
export async function startEmbeddedDynamo(dataPath?: string): Promise<EmbeddedDynamo> {
  // A path keeps the tables on disk (LevelDB), so what was delivered is remembered across restarts.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dataPath ? { path: dataPath } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  let table: Promise<unknown> | undefined;
  return {
    endpoint,
    client,
    dedupeStore: async () => {
      table ??= client
        .send(
          new CreateTableCommand({
            TableName: LOCAL_DEDUPE_TABLE,
            AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        )
        .catch((error: unknown) => {
          // Kept from an earlier run (DATA_DIR): use it as it is.
          if (!(error instanceof ResourceInUseException)) throw error;
        });
      await table;
      return new DynamoDedupeStore(LOCAL_DEDUPE_TABLE, client);
    },
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
