import { BatchGetItemCommand, BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../../functions/core/config';
import { type DedupeStore, dedupeStoreFromEnv, DynamoDedupeStore } from '../../../functions/core/dedupe';
import { ConfigError } from '../../../functions/core/errors';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../local/embedded-dynamodb';

const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);

/** The contract both stores keep: remembered keys are seen until they expire, others never. */
function behavesAsADedupeStore(name: string, make: (now: () => number) => { store: DedupeStore; close?: () => void }) {
  describe(`${name} keeps the dedupe contract`, () => {
    let clock = NOW;
    let made: ReturnType<typeof make>;
    beforeEach(() => {
      clock = NOW;
      made = make(() => clock);
    });
    afterEach(() => made.close?.());

    it('sees nothing before anything is remembered', async () => {
      expect(await made.store.seen(['a', 'b'])).toEqual(new Set());
    });

    it('sees exactly the remembered keys', async () => {
      await made.store.remember(['a', 'c'], 3600);

      expect(await made.store.seen(['a', 'b', 'c'])).toEqual(new Set(['a', 'c']));
    });

    it('forgets a key once its time to live has passed', async () => {
      await made.store.remember(['a'], 60);

      clock = NOW + 59_000;
      expect(await made.store.seen(['a'])).toEqual(new Set(['a']));
      clock = NOW + 61_000;
      expect(await made.store.seen(['a'])).toEqual(new Set());
    });
  });
}

/** An in-process stand-in for the DynamoDB table, behind the real SDK client (aws-sdk-client-mock). */
function mockedTable() {
  const client = new DynamoDBClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  const items = new Map<string, string>();
  mock.on(BatchWriteItemCommand).callsFake((input: { RequestItems: Record<string, { PutRequest: { Item: { pk: { S: string }; expires_at: { N: string } } } }[]> }) => {
    for (const write of input.RequestItems.dedupe ?? []) items.set(write.PutRequest.Item.pk.S, write.PutRequest.Item.expires_at.N);
    return { UnprocessedItems: {} };
  });
  mock.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: { pk: { S: string } }[] }> }) => ({
    Responses: {
      dedupe: (input.RequestItems.dedupe?.Keys ?? []).flatMap((key) => (items.has(key.pk.S) ? [{ pk: { S: key.pk.S }, expires_at: { N: items.get(key.pk.S)! } }] : [])),
    },
    UnprocessedKeys: {},
  }));
  return { client, mock };
}

behavesAsADedupeStore('DynamoDedupeStore (SDK mocked)', (now) => ({ store: new DynamoDedupeStore('dedupe', mockedTable().client, now) }));

describe('DynamoDedupeStore against the embedded DynamoDB of npm start (dynalite)', () => {
  let dynamo: EmbeddedDynamo | undefined;
  let clock = NOW;
  let store: DynamoDedupeStore;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
    await dynamo.dedupeStore(); // creates the table
    store = new DynamoDedupeStore('bpb-dedupe', dynamo.client, () => clock);
  });
  afterAll(() => dynamo?.stop());

  it('sees exactly what it remembered, across more keys than one batch call takes, until it expires', async () => {
    const keys = Array.from({ length: 130 }, (_, i) => `live-${i}`);
    await store.remember(keys, 60);

    expect(await store.seen([...keys, 'never'])).toEqual(new Set(keys));
    clock = NOW + 61_000;
    expect(await store.seen(keys)).toEqual(new Set());
  });
});

describe('DynamoDedupeStore', () => {
  it('asks for at most 100 keys per BatchGetItem and writes at most 25 items per BatchWriteItem, with the TTL attribute', async () => {
    const { client, mock } = mockedTable();
    const store = new DynamoDedupeStore('dedupe', client, () => NOW);
    const keys = Array.from({ length: 230 }, (_, i) => `k${i}`);

    await store.remember(keys, 3600);
    await store.seen(keys);

    const writes = mock.commandCalls(BatchWriteItemCommand).map((call) => call.args[0].input.RequestItems?.dedupe?.length);
    const gets = mock.commandCalls(BatchGetItemCommand).map((call) => call.args[0].input.RequestItems?.dedupe?.Keys?.length);
    expect(writes).toEqual([25, 25, 25, 25, 25, 25, 25, 25, 25, 5]);
    expect(gets).toEqual([100, 100, 30]);
    const item = mock.commandCalls(BatchWriteItemCommand)[0]!.args[0].input.RequestItems!.dedupe![0]!.PutRequest!.Item!;
    expect(item).toEqual({ pk: { S: 'k0' }, expires_at: { N: String(NOW / 1000 + 3600) } });
  });

  it('retries the items DynamoDB leaves unprocessed', async () => {
    const { client, mock } = mockedTable();
    mock
      .on(BatchWriteItemCommand)
      .resolvesOnce({ UnprocessedItems: { dedupe: [{ PutRequest: { Item: { pk: { S: 'b' }, expires_at: { N: '1' } } } }] } })
      .resolves({ UnprocessedItems: {} });

    await new DynamoDedupeStore('dedupe', client, () => NOW).remember(['a', 'b'], 60);

    expect(mock.commandCalls(BatchWriteItemCommand)).toHaveLength(2);
    expect(mock.commandCalls(BatchWriteItemCommand)[1]!.args[0].input.RequestItems?.dedupe).toHaveLength(1);
  });

  it('is built from DEDUPE_TABLE_NAME, and refuses to start without it, naming it', () => {
    expect(dedupeStoreFromEnv(loadConfig({ DEDUPE_TABLE_NAME: 'bridge-dedupe' }))).toBeInstanceOf(DynamoDedupeStore);
    expect(() => dedupeStoreFromEnv(loadConfig({}))).toThrow(new ConfigError('DEDUPE_TABLE_NAME is not set'));
  });
});
