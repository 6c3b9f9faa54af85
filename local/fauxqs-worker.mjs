// fauxqs on a worker thread (started by local/fauxqs-thread.ts): its SQLite work, synchronous, then
// runs beside the runner's event loop instead of on it. Plain JavaScript, so the thread needs no
// TypeScript loader (under tsx and under jest alike). Calls come as { id, method, args } and are
// answered as { id, result } or { id, error }; results are plain data (no functions cross).
import { parentPort, workerData } from 'node:worker_threads';
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs(workerData);
const methods = new Set(['createQueue', 'inspectQueue', 'createBucket', 'stop']);
parentPort.on('message', async ({ id, method, args }) => {
  try {
    if (!methods.has(method)) throw new Error(`fauxqs thread: no method ${method}`);
    const result = await server[method](...args);
    parentPort.postMessage({ id, result: result === undefined ? undefined : JSON.parse(JSON.stringify(result)) });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
parentPort.postMessage({ ready: true, port: server.port });
