import { BatchWriteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../../functions/core/config';
import { type DedupeStore, DynamoDedupeStore, dedupeStoreFromEnv } from '../../../functions/core/dedupe';
import { ConfigError } from '../../../functions/core/errors';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../local/embedded-dynamodb';

const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);

/** The contract the store keeps: claim before sending, confirm once delivered, release otherwise; expired markers are ignored. */
function behavesAsADedupeStore(name: string, make: (now: () => number) => { store: DedupeStore; close?: () => void | Promise<void> }) {
  describe(`${name} keeps the dedupe contract`, () => {
    let clock = NOW;
    let made: ReturnType<typeof make>;
    beforeEach(() => {
      clock = NOW;
      made = make(() => clock);
    });
    afterEach(async () => made.close?.());

    it('lets a key nobody holds be claimed', async () => {
      const claims = await made.store.claim(['a', 'b'], 60);

      expect(claims).toEqual({ claimed: new Set(['a', 'b']), delivered: new Set(), inFlight: new Set() });
    });

    it('refuses a second claim of a key in flight, so two concurrent copies cannot both go', async () => {
      const [one, two] = await Promise.all([made.store.claim(['a'], 60), made.store.claim(['a'], 60)]);

      expect([...one.claimed, ...two.claimed]).toEqual(['a']);
      expect([...one.inFlight, ...two.inFlight]).toEqual(['a']);
    });

    it('says a confirmed key was delivered, until its time to live has passed', async () => {
      await made.store.claim(['a'], 60);
      await made.store.confirm(['a'], 3600);

      clock = NOW + 3_599_000;
      expect((await made.store.claim(['a'], 60)).delivered).toEqual(new Set(['a']));
      clock = NOW + 3_601_000;
      expect((await made.store.claim(['a'], 60)).claimed).toEqual(new Set(['a']));
    });

    it('lets a released key be claimed again at once (a failed call, a parked record to redrive)', async () => {
      await made.store.claim(['a'], 60);
      await made.store.release(['a']);

      expect((await made.store.claim(['a'], 60)).claimed).toEqual(new Set(['a']));
    });

    it('lets a claim whose holder died be taken once its in-flight marker expired', async () => {
      await made.store.claim(['a'], 60);

      clock = NOW + 59_000;
      expect((await made.store.claim(['a'], 60)).inFlight).toEqual(new Set(['a']));
      clock = NOW + 61_000;
      expect((await made.store.claim(['a'], 60)).claimed).toEqual(new Set(['a']));
    });
  });
}

let dynamo: EmbeddedDynamo | undefined;
beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  await dynamo.dedupeStore(); // creates the table
});
afterAll(() => dynamo?.stop());

let table = 0;
behavesAsADedupeStore('DynamoDedupeStore against the embedded DynamoDB of npm start (dynalite)', (now) => {
  // One key space per test: keys are prefixed, the table is shared.
  const prefix = `t${table++}:`;
  const inner = new DynamoDedupeStore('bpb-dedupe', dynamo!.client, now);
  const scoped = (keys: readonly string[]) => keys.map((key) => prefix + key);
  const unscoped = (keys: Set<string>) => new Set([...keys].map((key) => key.slice(prefix.length)));
  return {
    store: {
      claim: async (keys, seconds) => {
        const claims = await inner.claim(scoped(keys), seconds);
        return { claimed: unscoped(claims.claimed), delivered: unscoped(claims.delivered), inFlight: unscoped(claims.inFlight) };
      },
      confirm: (keys, ttl) => inner.confirm(scoped(keys), ttl),
      release: (keys) => inner.release(scoped(keys)),
    },
  };
});

describe('DynamoDedupeStore against dynalite, in bulk', () => {
  it('gives up every in-flight claim, and only those, for a process that starts on a table a dead run left', async () => {
    const store = new DynamoDedupeStore('bpb-dedupe', dynamo!.client, () => NOW);
    await store.claim(['dead-1', 'dead-2', 'done-1'], 3600);
    await store.confirm(['done-1'], 3600);

    expect(await store.releaseAllInFlight()).toBeGreaterThanOrEqual(2);

    const claims = await store.claim(['dead-1', 'dead-2', 'done-1'], 60);
    expect(claims.claimed).toEqual(new Set(['dead-1', 'dead-2']));
    expect(claims.delivered).toEqual(new Set(['done-1']));
  });

  it('claims, confirms and reads back more keys than one batch call takes', async () => {
    const store = new DynamoDedupeStore('bpb-dedupe', dynamo!.client, () => NOW);
    const keys = Array.from({ length: 130 }, (_, i) => `bulk-${i}`);
    expect((await store.claim(keys, 60)).claimed.size).toBe(130);
    await store.confirm(keys, 60);

    expect((await store.claim([...keys, 'bulk-never'], 60)).delivered).toEqual(new Set(keys));
  });
});

describe('DynamoDedupeStore', () => {
  it('claims with a conditional write that ignores expired markers, and writes the delivered marker with the TTL attribute', async () => {
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    mock.on(PutItemCommand).resolves({});
    mock.on(BatchWriteItemCommand).resolves({ UnprocessedItems: {} });
    const store = new DynamoDedupeStore('dedupe', client, () => NOW);

    await store.claim(['k0'], 90);
    await store.confirm(['k0'], 3600);

    const put = mock.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe('attribute_not_exists(pk) OR expires_at <= :now');
    expect(put.Item).toEqual({ pk: { S: 'k0' }, state: { S: 'in_flight' }, expires_at: { N: String(NOW / 1000 + 90) } });
    const item = mock.commandCalls(BatchWriteItemCommand)[0]!.args[0].input.RequestItems!.dedupe![0]!.PutRequest!.Item!;
    expect(item).toEqual({ pk: { S: 'k0' }, state: { S: 'delivered' }, expires_at: { N: String(NOW / 1000 + 3600) } });
  });

  it('writes at most 25 items per BatchWriteItem and retries the items DynamoDB leaves unprocessed', async () => {
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    const mock = mockClient(client);
    mock
      .on(BatchWriteItemCommand)
      .resolvesOnce({ UnprocessedItems: { dedupe: [{ DeleteRequest: { Key: { pk: { S: 'k1' } } } }] } })
      .resolves({ UnprocessedItems: {} });

    await new DynamoDedupeStore('dedupe', client, () => NOW).release(Array.from({ length: 30 }, (_, i) => `k${i}`));

    const sizes = mock.commandCalls(BatchWriteItemCommand).map((call) => call.args[0].input.RequestItems?.dedupe?.length);
    expect(sizes).toEqual([25, 1, 5]);
  });

  it('is built from DEDUPE_TABLE_NAME, and refuses to start without it, naming it', () => {
    expect(dedupeStoreFromEnv(loadConfig({ DEDUPE_TABLE_NAME: 'bridge-dedupe' }))).toBeInstanceOf(DynamoDedupeStore);
    expect(() => dedupeStoreFromEnv(loadConfig({}))).toThrow(new ConfigError('DEDUPE_TABLE_NAME is not set'));
  });
});
