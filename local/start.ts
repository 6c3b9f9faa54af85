import { deliveryQueues, ingressFlows } from '../functions/catalogue';
import { ConfigError } from '../functions/core/errors';
import { type Runner, startRunner } from './runner';

/** `npm start`: the whole bridge on http://localhost:$PORT (SPEC section 5). Ctrl-C stops it. */
let runner: Runner;
try {
  runner = await startRunner();
} catch (error) {
  // A wrong variable is the user's to fix: say which, without a stack trace.
  if (!(error instanceof ConfigError)) throw error;
  console.error(`braze-partner-bridge: ${error.message}`);
  process.exit(1);
}
const line = (text = '') => console.log(text);
line(`braze-partner-bridge listening on http://localhost:${runner.port}`);
line(`inbound token: ${process.env.INBOUND_TOKEN ? '(from INBOUND_TOKEN)' : runner.inboundToken}`);
line('routes (and how each accepts the token):');
const schemes = { bearer: 'Authorization: Bearer <token>', query: '?token=<token>', signature: 'signature header' } as const;
for (const flow of ingressFlows) line(`  ${flow.method} ${flow.path}  (${flow.id}; ${flow.auth.map((a) => schemes[a]).join(' or ')})`);
line(`sandboxed destinations (recorded, listed at GET /_sandbox/requests): ${runner.sandboxed.join(', ') || 'none'}`);
for (const queue of deliveryQueues) {
  if (queue.drive.kind === 'schedule') line(`${queue.id}: drained every ${runner.intervalSeconds(queue.id)} s (${queue.drive.intervalSetting})`);
}
line(`embedded SQS (fauxqs) at ${runner.sqsEndpoint}`);
line();

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  line(`\n${signal}: stopping (in-flight work finishes, queues are in memory and end with the process)`);
  await runner.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
