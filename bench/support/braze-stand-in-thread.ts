import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { waitForObjects } from './braze-stand-in';

/** Counts of a stand-in in another thread: calls and objects (Int32), first and last call's time (Float64, ms since the epoch). */
export interface SharedCounts {
  ints: SharedArrayBuffer;
  times: SharedArrayBuffer;
}

/** Written by the worker after each call: times first, then the counts with Atomics, so that a reader who sees the counts sees the times. */
export function writeCounts(counts: SharedCounts, s: { calls: number; objects: number; firstCallAt: number; lastCallAt: number }): void {
  const times = new Float64Array(counts.times);
  times[0] = performance.timeOrigin + s.firstCallAt;
  times[1] = performance.timeOrigin + s.lastCallAt;
  const ints = new Int32Array(counts.ints);
  Atomics.store(ints, 0, s.calls);
  Atomics.store(ints, 1, s.objects);
}

/**
 * The loopback stand-in for Braze's `/users/track` (BrazeStandIn) in a worker thread of its own, for
 * a bench whose contender runs in this thread (the core path): Braze's side of each call, its
 * parsing and counting, stays off the thread measured, as it does for Braze's importer (another
 * process) and for `npm start` (the bridge is a child process). Counts are read from shared memory,
 * with no message per call; times are on this thread's `performance.now()` scale.
 */
export class ThreadedBrazeStandIn {
  private readonly counts: SharedCounts = { ints: new SharedArrayBuffer(8), times: new SharedArrayBuffer(16) };
  private worker?: Worker;

  get calls(): number {
    return Atomics.load(new Int32Array(this.counts.ints), 0);
  }

  get objects(): number {
    return Atomics.load(new Int32Array(this.counts.ints), 1);
  }

  get firstCallAt(): number {
    return new Float64Array(this.counts.times)[0]! - performance.timeOrigin;
  }

  get lastCallAt(): number {
    return new Float64Array(this.counts.times)[1]! - performance.timeOrigin;
  }

  async start(): Promise<string> {
    this.worker = new Worker(new URL('./braze-stand-in-worker.ts', import.meta.url), { workerData: this.counts });
    const [url] = (await Promise.race([once(this.worker, 'message'), once(this.worker, 'error').then(([error]) => Promise.reject(error))])) as [string];
    return url;
  }

  /** Resolves once `objects` objects have arrived; rejects after `timeoutMs`. */
  waitForObjects(objects: number, timeoutMs: number): Promise<void> {
    return waitForObjects(this, objects, timeoutMs);
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    worker.postMessage('stop');
    await once(worker, 'exit');
  }
}
