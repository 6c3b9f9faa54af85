import { Worker } from 'node:worker_threads';
import type { startFauxqs } from 'fauxqs';

type FauxqsServer = Awaited<ReturnType<typeof startFauxqs>>;
type FauxqsOptions = NonNullable<Parameters<typeof startFauxqs>[0]> & { dataDir?: string };

/** fauxqs on its own thread: the calls the runner makes of it, each answered asynchronously. */
export interface FauxqsThread {
  port: number;
  createQueue: (name: string, options?: Parameters<FauxqsServer['createQueue']>[1]) => Promise<ReturnType<FauxqsServer['createQueue']>>;
  inspectQueue: (name: string) => Promise<ReturnType<FauxqsServer['inspectQueue']>>;
  createBucket: (name: string) => Promise<ReturnType<FauxqsServer['createBucket']>>;
  stop: () => Promise<void>;
}

type Answer = { ready: true; port: number } | { id: number; result?: unknown; error?: string };

/**
 * Starts fauxqs on a worker thread (local/fauxqs-worker.mjs). Each SQS call fauxqs answers runs
 * fsync'd SQLite transactions when it keeps a DATA_DIR; on the runner's thread those held the event
 * loop that ingress, pollers and consumers share. The data and its durability are fauxqs's, unchanged.
 */
export async function startFauxqsThread(options: FauxqsOptions): Promise<FauxqsThread> {
  const worker = new Worker(new URL('./fauxqs-worker.mjs', import.meta.url), { workerData: options });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (answer: Answer) => {
      if ('ready' in answer) {
        worker.off('error', reject);
        resolve(answer.port);
        return;
      }
      const waiting = pending.get(answer.id);
      pending.delete(answer.id);
      if (answer.error !== undefined) waiting?.reject(new Error(answer.error));
      else waiting?.resolve(answer.result);
    });
  });
  worker.on('error', (error) => {
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  });
  const call = <T>(method: string, ...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, method, args });
    });
  return {
    port,
    createQueue: (name, queueOptions) => call('createQueue', name, queueOptions),
    inspectQueue: (name) => call('inspectQueue', name),
    createBucket: (name) => call('createBucket', name),
    stop: async () => {
      await call('stop');
      await worker.terminate();
    },
  };
}
