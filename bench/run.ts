import { parseArgs } from 'node:util';
import { benchBackfill } from './backfill';
import { measureAllBundles } from './bundles';
import { benchCsvImport } from './csv-import';
import { benchSegmentSync } from './segment-sync';

/**
 * `npm run bench [-- --records 100000]`: the figures the README quotes. Speed and memory goals are
 * checked here, never by timed tests.
 */
const { values } = parseArgs({
  options: { records: { type: 'string', default: '50000' }, rows: { type: 'string', default: '500000' }, users: { type: 'string', default: '500000' }, only: { type: 'string' } },
});
const records = Number(values.records);
const rows = Number(values.rows);
const users = Number(values.users);
console.log(`Node ${process.version}, ${process.arch}, ${(await import('node:os')).cpus().length} cores\n`);

if (!values.only || values.only === 'bundles') {
  console.log('Lambda bundles (built as the CDK app builds them; import = median of 7 fresh processes)');
  console.log('handler'.padEnd(40), 'bundle KB'.padStart(10), 'import ms'.padStart(10));
  for (const f of await measureAllBundles()) console.log(f.entry.padEnd(40), (f.bytes / 1024).toFixed(0).padStart(10), f.importMs.toFixed(1).padStart(10));
  console.log();
}

if (!values.only || values.only === 'backfill') {
  const b = await benchBackfill(records);
  console.log(`Lytics audience backfill through the local runner into the Braze sandbox (${b.records} records, ${b.requests} requests)`);
  console.log(`  Braze calls      ${b.brazeCalls} (minimum ceil(N / max) = ${b.minimumCalls}; ${b.averageObjectsPerCall.toFixed(1)} objects per call)`);
  console.log(`  throughput       ${b.recordsPerSecond.toFixed(0)} records/s (${b.seconds.toFixed(1)} s end to end)`);
  console.log(`  peak RSS         ${b.peakRssMb.toFixed(0)} MB (runner, fauxqs, sandbox and load generator in one process)`);
  console.log();
}

if (!values.only || values.only === 'csv') {
  const c = await benchCsvImport(rows);
  console.log(`Lytics CSV import (npm run import:lytics path) into the Lytics sandbox (${c.rows} rows, ${c.fileMb.toFixed(0)} MB file)`);
  console.log(`  bulk requests    ${c.requests}`);
  console.log(`  throughput       ${c.rowsPerSecond.toFixed(0)} rows/s (${c.seconds.toFixed(1)} s)`);
  console.log(`  peak RSS         ${c.peakRssMb.toFixed(0)} MB (includes the embedded S3 holding the whole file)`);
}

if (!values.only || values.only === 'sync') {
  console.log();
  console.log(`ODP segment sync (npm run sync:odp path): one ${users.toLocaleString('en-US')}-user Braze segment, sandbox export zip -> ODP sandbox`);
  for (const callsPerSecond of [10, 100]) {
    const s = await benchSegmentSync(users, callsPerSecond);
    const label = callsPerSecond === 10 ? "at ODP's 10 calls/s" : `at ${callsPerSecond} calls/s (the pipeline's own pace)`;
    console.log(`  ${label}`);
    console.log(`    profiles sent  ${s.profilesSent} in ${s.requests} calls`);
    console.log(`    throughput     ${s.usersPerSecond.toFixed(0)} users/s (${s.seconds.toFixed(1)} s, the export's first check and 1 s wait included)`);
    console.log(`    peak RSS       ${s.peakRssMb.toFixed(0)} MB (the sync, dynalite, and the sandboxes generating the zip, in one process)`);
  }
}
