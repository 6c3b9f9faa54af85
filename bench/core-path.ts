import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { build as buildTrackDelivery } from '../functions/braze/track-delivery';
import { catalogue } from '../functions/catalogue';
import { loadConfig } from '../functions/core/config';
import type { DedupeStore } from '../functions/core/dedupe';
import { createDeps } from '../functions/core/deps';
import { mapWithConcurrency } from '../functions/core/pack';
import { EnvSecretStore } from '../functions/core/secrets';
import { build as buildAudiences } from '../functions/lytics/audiences';
import { lambdaContext } from '../local/lambda-context';
import { audienceBodies } from './backfill';
import { ThreadedBrazeStandIn } from './support/braze-stand-in-thread';
import { printProfileAreas } from './support/profile-areas';

const TOKEN = 'bench-inbound-token';

/** Nothing to dedupe (audience records carry no dedupe id): every claim is granted, nothing stored. */
const noDedupe: DedupeStore = {
  claim: async (keys) => ({ claimed: new Set(keys), delivered: new Set(), inFlight: new Set() }),
  confirm: async () => undefined,
  release: async () => undefined,
};

/** Records the messages of one SendMessageBatch in memory, as SQS would hand them to the consumer. */
function memoryQueue(received: SQSRecord[]): SQSClient {
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  sqs.send = (async (command: { input: { Entries?: { MessageBody?: string; MessageAttributes?: Record<string, { StringValue?: string }> }[] } }) => {
    for (const entry of command.input.Entries ?? []) {
      const messageId = randomUUID();
      received.push({
        messageId,
        receiptHandle: messageId,
        body: entry.MessageBody ?? '',
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'bench', ApproximateFirstReceiveTimestamp: '0' },
        messageAttributes: Object.fromEntries(
          Object.entries(entry.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            { stringValue: value.StringValue, dataType: 'String', stringListValues: [], binaryListValues: [] },
          ]),
        ),
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench',
        awsRegion: 'us-east-1',
      });
    }
    return { Successful: (command.input.Entries ?? []).map((_, i) => ({ Id: String(i), MessageId: 'm', MD5OfMessageBody: '' })), Failed: [] };
  }) as unknown as SQSClient['send'];
  return sqs;
}

/**
 * The core path in one process, no HTTP ingress and no queue server: each Lytics audience body (1,000
 * records) through the ingress handler itself (authentication, parse, validation, transform, message
 * encoding) onto an in-memory queue, then the bulk lane's delivery handler over batches of the
 * catalogue's size (25 messages of 300 objects, 5 at once, as its event source runs it) and the Braze client against a loopback
 * stand-in. Records/s from the first body to the last Braze call.
 */
async function benchCorePath(
  records: number,
  profileDir?: string,
): Promise<{ seconds: number; ingressSeconds: number; recordsPerSecond: number; brazeCalls: number; cpuSeconds: number }> {
  // Braze's side in a thread of its own, as the importer's and `npm start`'s are in another process.
  const braze = new ThreadedBrazeStandIn();
  const env = {
    LOG_LEVEL: 'SILENT',
    INBOUND_TOKEN: TOKEN,
    QUEUE_URL: 'memory://braze-track-bulk',
    BRAZE_REST_ENDPOINT: await braze.start(),
    BRAZE_API_KEY: 'k',
  };
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const config = loadConfig(env);
  const secrets = EnvSecretStore.fromConfig(config);
  const queued: SQSRecord[] = [];
  const flow = catalogue.flow('lytics-audiences');
  const bulk = catalogue.queue('braze-track-bulk');
  const ingress = buildAudiences(createDeps(flow.id, config, { secrets, sqs: memoryQueue(queued) }), flow as Parameters<typeof buildAudiences>[1]);
  const delivery = buildTrackDelivery(createDeps(bulk.consumer.flowId, config, { secrets, sqs: memoryQueue([]), dedupe: noDedupe }), bulk);
  try {
    const bodies = audienceBodies(records).map((body) => JSON.stringify(body));
    const profiler = profileDir ? await startProfile() : undefined;
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (const body of bodies) {
      const answer = await ingress(
        { headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body, isBase64Encoded: false } as unknown as Parameters<
          typeof ingress
        >[0],
        lambdaContext(flow.id, 10),
      );
      if (answer.statusCode !== 202) throw new Error(`ingress answered ${answer.statusCode}: ${answer.body}`);
    }
    const ingressSeconds = (performance.now() - started) / 1000;
    // Batches as the lane's event source makes them (its batch size and concurrency in the catalogue).
    if (bulk.drive.kind !== 'event-source') throw new Error('braze-track-bulk is not drained by an event source');
    const { batchSize, maxConcurrency } = bulk.drive;
    const batches = Array.from({ length: Math.ceil(queued.length / batchSize) }, (_, i) => queued.slice(i * batchSize, (i + 1) * batchSize));
    await mapWithConcurrency(batches, maxConcurrency, async (batch) => {
      const result = await delivery({ Records: batch }, lambdaContext(bulk.consumer.flowId, bulk.consumer.timeoutSeconds));
      if ('batchItemFailures' in result && result.batchItemFailures.length > 0) throw new Error(`${result.batchItemFailures.length} message(s) failed`);
    });
    await braze.waitForObjects(records, 60_000);
    const seconds = (braze.lastCallAt - started) / 1000;
    const used = process.cpuUsage(cpu);
    if (profiler && profileDir) await stopProfile(profiler, profileDir);
    return { seconds, ingressSeconds, recordsPerSecond: records / seconds, brazeCalls: braze.calls, cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await braze.stop();
  }
}

/** A CPU profile of this thread from now, for the timed window alone (the start-up and the bodies' making left out). */
async function startProfile(): Promise<Session> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session: Session, dir: string): Promise<void> {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `core-path-${Date.now()}.cpuprofile`), JSON.stringify(profile));
}

/** The core-path section of `npm run bench`; `profileDir`: a CPU profile of the timed window is written there and summed by area. */
export async function printCorePath(records: number, profileDir?: string): Promise<void> {
  const c = await benchCorePath(records, profileDir);
  console.log(`Core path in one process (ingress handler, in-memory queue, bulk delivery handler, Braze client -> loopback stand-in), ${records} records`);
  console.log(
    `  throughput       ${c.recordsPerSecond.toFixed(0)} records/s (${c.seconds.toFixed(1)} s, first body to last call; ${c.brazeCalls} Braze calls)`,
  );
  const us = (seconds: number) => ((seconds / records) * 1e6).toFixed(1);
  console.log(
    `  stages           ingress handler ${us(c.ingressSeconds)} us a record; delivery handler and Braze client ${us(c.seconds - c.ingressSeconds)} us a record`,
  );
  console.log(
    `  CPU              ${c.cpuSeconds.toFixed(1)} s user+system, the stand-in included (${((c.cpuSeconds / records) * 1e6).toFixed(0)} us a record)`,
  );
  if (profileDir) {
    console.log(`  where the time went (CPU profile of the timed window in ${profileDir}, seconds by area):`);
    printProfileAreas(profileDir);
  }
  console.log();
}
