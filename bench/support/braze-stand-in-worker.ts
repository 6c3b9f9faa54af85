import { parentPort, workerData } from 'node:worker_threads';
import { BrazeStandIn } from './braze-stand-in';
import { type SharedCounts, writeCounts } from './braze-stand-in-thread';

/**
 * The worker thread of ThreadedBrazeStandIn (braze-stand-in-thread.ts): a BrazeStandIn whose counts
 * go to the memory it shares with the thread that started it, after each call; it answers `stop`.
 */
const counts = workerData as SharedCounts;
const standIn = new BrazeStandIn(0, (s) => writeCounts(counts, s));
const url = await standIn.start();
parentPort!.on('message', async (message: unknown) => {
  if (message !== 'stop') return;
  await standIn.stop();
  parentPort!.close();
});
parentPort!.postMessage(url);
