import { deliveryQueues, ingressFlows } from '../functions/catalogue';
import { ConfigError } from '../functions/core/errors';
import { operatorRoutes } from './operator-routes';
import { type Runner, startRunner } from './runner';

/** `npm start`: the whole bridge on http://localhost:$PORT (SPEC section 5). Ctrl-C stops it. */
let runner: Runner;
try {
  runner = await startRunner({ operatorRoutes });
} catch (error) {
  // A wrong variable, or a DATA_DIR another run holds, is the user's to fix: say which, in one line.
  if (!(error instanceof ConfigError)) throw error;
  console.error(`braze-partner-bridge: ${error.message}`);
  process.exit(1);
}
const line = (text = '') => console.log(text);
line(`braze-partner-bridge listening on http://localhost:${runner.port}`);
line(`inbound token: ${process.env.INBOUND_TOKEN ? '(from INBOUND_TOKEN)' : runner.inboundToken}`);
line('routes (and how each accepts the token):');
const schemes = {
  bearer: 'Authorization: Bearer <token>',
  query: '?token=<token>',
  basic: 'Basic auth, the token as password',
  signature: 'signature header',
} as const;
for (const flow of ingressFlows) line(`  ${flow.method} ${flow.path}  (${flow.id}; ${flow.auth.map((a) => schemes[a]).join(' or ')})`);
line(
  `console: http://localhost:${runner.port}/ (counts, queues, DLQs and their redrive, last requests); OpenAPI: http://localhost:${runner.port}/openapi.json`,
);
line(`sandboxed destinations (recorded, listed at GET /_sandbox/requests): ${runner.sandboxed.join(', ') || 'none'}`);
for (const queue of deliveryQueues) {
  if (queue.drive.kind === 'schedule') line(`${queue.id}: drained every ${runner.intervalSeconds(queue.id)} s (${queue.drive.intervalSetting})`);
}
line(`embedded SQS (fauxqs) at ${runner.sqsEndpoint}`);
if (runner.dataDir) {
  line(`data: ${runner.dataDir} (queues, DLQs and the dedupe table survive a restart; DATA_DIR=:memory: keeps nothing, deleting the folder starts afresh)`);
} else {
  line('data: in memory (DATA_DIR=:memory:): what is queued ends with the process');
}
if (runner.resumedInFlight > 0) {
  line(`resumed: ${runner.resumedInFlight} message(s) the previous run had received and not finished, delivered now`);
}
const backlog = (await runner.backlog()).filter((q) => q.waiting > 0 || q.parked > 0);
if (backlog.length > 0) {
  line(`waiting from an earlier run: ${backlog.map((q) => `${q.queue} ${q.waiting} queued, ${q.parked} in its DLQ`).join('; ')}`);
  if (backlog.some((q) => q.parked > 0)) {
    const local = runner.port === 3000 ? '--local' : `--local http://localhost:${runner.port}`;
    line(
      `  parked messages stay in their DLQ until redriven: npx bridge dlq peek <queue> ${local} (why), npx ` +
        `bridge dlq redrive <queue> ${local}, or the console's redrive button at http://localhost:${runner.port}/`,
    );
  }
}
line();

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  const kept = runner.dataDir ? `; the queues stay in ${runner.dataDir}` : ', queues are in memory and end with the process';
  line(`\n${signal}: stopping (in-flight batches finish or go back to their queue${kept})`);
  await runner.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
