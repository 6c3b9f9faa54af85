import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DynamoDedupeStore } from '../functions/core/dedupe';
import { DynamoJobStateStore } from '../functions/core/job-state';

export interface EmbeddedDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** The dedupe table as the stack creates it (key `pk`), and the same store the Lambdas use over it. */
  dedupeStore: () => Promise<DynamoDedupeStore>;
  /** The job state table as the stack creates it (key `pk`), and the store scheduled jobs use over it. */
  jobStateStore: () => Promise<DynamoJobStateStore>;
  stop: () => Promise<void>;
}

const LOCAL_DEDUPE_TABLE = 'bpb-dedupe';
const LOCAL_JOB_STATE_TABLE = 'bpb-job-state';

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
  const tables = new Map<string, Promise<unknown>>();
  // dynalite answers CreateTable with CREATING and refuses a Scan or Query of the table (not found)
  // until it is ACTIVE, a moment later even with createTableMs 0.
  const untilActive = async (name: string) => {
    for (let tries = 0; tries < 500; tries++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`table ${name} did not become ACTIVE`);
  };
  // Created once; one kept from an earlier run (DATA_DIR) is used as it is.
  const ensureTable = async (name: string) => {
    if (!tables.has(name)) {
      tables.set(
        name,
        client
          .send(
            new CreateTableCommand({
              TableName: name,
              AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
              KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
              BillingMode: 'PAY_PER_REQUEST',
            }),
          )
          .catch((error: unknown) => {
            if (!(error instanceof ResourceInUseException)) throw error;
          })
          .then(() => untilActive(name)),
      );
    }
    await tables.get(name);
  };
  return {
    endpoint,
    client,
    dedupeStore: async () => {
      await ensureTable(LOCAL_DEDUPE_TABLE);
      return new DynamoDedupeStore(LOCAL_DEDUPE_TABLE, client);
    },
    jobStateStore: async () => {
      await ensureTable(LOCAL_JOB_STATE_TABLE);
      return new DynamoJobStateStore(LOCAL_JOB_STATE_TABLE, client);
    },
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
