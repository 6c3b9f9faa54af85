/// <reference lib="esnext.disposable" />
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DedupeStore } from '../functions/core/dedupe';
import { lockDataDir } from './data-dir-lock';
import { startEmbeddedDynamo } from './embedded-dynamodb';
import { type FauxqsThread, startFauxqsThread } from './fauxqs-thread';

/** Where `npm start` keeps its queues unless DATA_DIR says otherwise (git-ignored). */
const DEFAULT_DATA_DIR = '.bridge-data';

export type Fauxqs = FauxqsThread;

/** What stands in for AWS locally: fauxqs as SQS (on a worker thread, and its client), dynalite as the dedupe table's DynamoDB. */
export interface Emulators {
  /** The DATA_DIR folder they keep their data in; undefined for `:memory:`. */
  dataPath?: string;
  fauxqs: Fauxqs;
  sqs: SQSClient;
  sqsEndpoint: string;
  dedupe: DedupeStore;
}

/**
 * Starts the emulators, each stopped by `stack` (in reverse order). DATA_DIR keeps the queues
 * (fauxqs's SQLite) and the dedupe table (dynalite's LevelDB), so what was answered 202 survives a
 * crash; `:memory:` keeps nothing. One run per folder: a second one is refused here, naming the
 * folder and the holder's pid.
 */
export async function startEmulators(dataDir: string | undefined, stack: AsyncDisposableStack): Promise<Emulators> {
  const dataPath = dataFolder(dataDir || DEFAULT_DATA_DIR);
  if (dataPath) {
    const lock = lockDataDir(dataPath);
    stack.defer(() => lock.release());
  }
  // On a thread of its own: its SQLite transactions (fsync'd with a DATA_DIR) leave the runner's event loop.
  const fauxqs = await startFauxqsThread({
    port: 0,
    logger: false,
    host: '127.0.0.1',
    ...(dataPath ? { dataDir: path.join(dataPath, 'sqs') } : {}),
  });
  stack.defer(() => fauxqs.stop());
  const sqsEndpoint = `http://127.0.0.1:${fauxqs.port}`;
  // md5: false: on loopback the body checksums the SDK computes on each send and receive only cost CPU.
  const sqs = new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, md5: false });
  stack.defer(() => sqs.destroy());
  // What was delivered, for the queues that dedupe on an id: the Lambdas' DynamoDB code path.
  const dynamo = await startEmbeddedDynamo(dataPath ? path.join(dataPath, 'dedupe') : undefined);
  stack.defer(() => dynamo.stop());
  const dedupe = await dynamo.dedupeStore();
  // One process per DATA_DIR: a claim still in flight belongs to a run that died; give it up so its
  // messages are delivered at once rather than when the claim expires.
  if (dataPath) await dedupe.releaseAllInFlight();
  return { dataPath, fauxqs, sqs, sqsEndpoint, dedupe };
}

/** DATA_DIR's absolute path, created if need be; undefined for `:memory:`. */
function dataFolder(dataDir: string): string | undefined {
  if (dataDir === ':memory:') return undefined;
  const dataPath = path.resolve(dataDir);
  mkdirSync(dataPath, { recursive: true });
  return dataPath;
}
