import { measureAllBundles } from './bundles';

/**
 * `npm run bench`: the figures the README quotes. Speed goals are checked here, never by timed tests.
 * Bundles: size and import time of each Lambda handler, bundled as the CDK app bundles it.
 */
const figures = await measureAllBundles();
console.log(`Node ${process.version}, ${process.arch}; import time = median of 7 fresh processes\n`);
console.log('handler'.padEnd(40), 'bundle KB'.padStart(10), 'import ms'.padStart(10));
for (const f of figures) console.log(f.entry.padEnd(40), (f.bytes / 1024).toFixed(0).padStart(10), f.importMs.toFixed(1).padStart(10));
