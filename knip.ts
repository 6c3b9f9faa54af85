/** Unused files, exports and dependencies, checked by `npm run check:unused` (knip), part of `npm test`.
 *  The Lambda handler modules are entries because the catalogue names them by path (CDK bundles them,
 *  the local runner imports them), so they are read from the catalogue here rather than listed twice. */
import type { KnipConfig } from 'knip';
import { deliveryQueues, ingressFlows, jobs } from './functions/catalogue';

const handlerEntries = [...ingressFlows.map((flow) => flow.entry), ...deliveryQueues.map((queue) => queue.consumer.entry), ...jobs.map((job) => job.entry)];

const config: KnipConfig = {
  entry: [
    ...handlerEntries,
    // bench/bundles.ts bundles it by path: the size and import time of a handler that does nothing.
    'bench/empty-handler.ts',
    // Started as a worker thread by bench/support/braze-stand-in-thread.ts, by path.
    'bench/support/braze-stand-in-worker.ts',
    // Forked by local/run-job.ts (runJob's `isolate`, which the bench uses) by path.
    'local/job-process.ts',
    // Served to the browser by local/console.ts as a static file.
    'local/console/console.js',
    // Run by hand after `npm install` (docs/development.md, "Changing dependencies").
    'scripts/lockfile-optional.mjs',
  ],
  project: ['functions/**/*.ts', 'lib/**/*.ts', 'local/**/*.{ts,js}', 'cli/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts', 'bin/*.mjs', 'scripts/*.mjs'],
};

export default config;
