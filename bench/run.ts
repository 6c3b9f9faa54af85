import { parseArgs } from 'node:util';
import { LAMBDA_NODE_OPTIONS } from '../lib/constructs/bridge-function';
import { printBackfill } from './backfill';
import { type BundleFigure, groupsOf, measureAllBundles } from './bundles';
import { printCorePath } from './core-path';
import { benchCost, printCost } from './cost';
import { benchCsvImport } from './csv-import';
import { printImporter } from './importer';
import { printQueue } from './queue';
import { benchSegmentSync } from './segment-sync';

/**
 * `npm run bench [-- --records 100000] [--only bundles|core|importer|queue|backfill|csv|sync|cost] [--analyze] [--data-dir DIR|:memory:]`: the
 * figures docs/benchmarks.md quotes. Speed and memory goals are checked here, never by timed tests. The
 * cost section takes `--callbacks`, `--callback-rate`, `--trickle`, `--braze-ms` and `--sqs-ms`; the backfill and
 * the core path `--profile DIR` (a CPU profile of the bridge process; of the core path's timed window) and the
 * backfill `--no-lane` (no realtime-lane figure); Braze's own importer `--importer-dir DIR` (its checkout) and
 * `--python` (an interpreter with requests, boto3 and tenacity).
 */
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    rows: { type: 'string' },
    users: { type: 'string', default: '500000' },
    callbacks: { type: 'string', default: '3000' },
    'callback-rate': { type: 'string', default: '50' },
    trickle: { type: 'string', default: '100' },
    'braze-ms': { type: 'string', default: '200' },
    'sqs-ms': { type: 'string', default: '10' },
    only: { type: 'string' },
    'data-dir': { type: 'string' },
    analyze: { type: 'boolean', default: false },
    profile: { type: 'string' },
    lane: { type: 'boolean', default: true },
    'importer-dir': { type: 'string' },
    python: { type: 'string', default: 'python3' },
  },
  allowNegative: true,
});
const records = Number(values.records);
// The CSV import's size: --rows, or --records when it is the only section run (500,000 when neither is given).
const rows = Number(values.rows ?? (values.only === 'csv' && process.argv.some((arg) => arg.startsWith('--records')) ? values.records : 500_000));
const users = Number(values.users);
const callbacks = Number(values.callbacks);
console.log(`Node ${process.version}, ${process.arch}, ${(await import('node:os')).cpus().length} cores\n`);

if (!values.only || values.only === 'bundles') {
  const figures = await measureAllBundles();
  const empty = figures.find((f) => f.kind === 'empty')!;
  const [deployedBefore, before] = figures.filter((f) => f.kind === 'reference') as [BundleFigure, BundleFigure];
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const holds = (f: BundleFigure) =>
    groupsOf(f.packages)
      .filter((g) => g.bytes >= 1024)
      .map((g) => `${g.name} ${(g.bytes / 1024).toFixed(0)}`)
      .join(', ');
  console.log('Lambda bundles, built as the CDK app builds them (minified ESM, SDK bundled, credential chain aliased to the');
  console.log(`environment provider, linked source map); import = median of 9 fresh processes, NODE_OPTIONS=${LAMBDA_NODE_OPTIONS || '(none)'} as deployed`);
  console.log('(the first reference as it was deployed, with --enable-source-maps), every bundle in turn, so that all share the moment;');
  console.log("x before = import / the first reference's");
  console.log('handler'.padEnd(52), 'KB'.padStart(6), 'import ms'.padStart(10), 'x before'.padStart(9), '  what it holds (KB, esbuild metafile)');
  for (const f of figures) {
    console.log(
      f.label.padEnd(52),
      kb(f.bytes).padStart(6),
      f.importMs.toFixed(1).padStart(10),
      (f.importMs / deployedBefore.importMs).toFixed(2).padStart(9),
      ' ',
      holds(f),
    );
  }
  const ingress = figures.filter((f) => f.kind === 'ingress');
  const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
  console.log(
    `ingress: ${range(
      ingress.map((f) => f.bytes / 1024),
      0,
    )} KB, import ${range(
      ingress.map((f) => f.importMs),
      0,
    )} ms: ` +
      `${range(
        ingress.map((f) => f.importMs / deployedBefore.importMs),
        2,
      )}x as deployed before, ` +
      `${range(
        ingress.map((f) => f.importMs / before.importMs),
        2,
      )}x the default chain timed alike, ` +
      `${range(
        ingress.map((f) => f.importMs - empty.importMs),
        0,
      )} ms above the empty handler`,
  );
  if (values.analyze) {
    for (const f of figures) {
      console.log(`\n${f.label}: ${kb(f.bytes)} KB`);
      for (const p of f.packages) console.log(`  ${kb(p.bytes).padStart(7)}  ${p.name}`);
    }
  }
  console.log();
}

if (!values.only || values.only === 'core') await printCorePath(records, values.profile);
if (!values.only || values.only === 'importer') await printImporter(records, values['importer-dir'] ?? process.env.IMPORTER_DIR, values.python);
if (!values.only || values.only === 'queue') await printQueue(records);

if (!values.only || values.only === 'backfill') {
  // npm start as a process of its own, DATA_DIR on disk by default (as a team running it for real has it); `--data-dir :memory:` for none.
  await printBackfill(records, { dataDir: values['data-dir'], profileDir: values.profile, lane: values.lane });
}

if (!values.only || values.only === 'csv') {
  const c = await benchCsvImport(rows);
  console.log(`Lytics CSV import (npm run import:lytics path) into the Lytics sandbox (${c.rows} rows, ${c.fileMb.toFixed(0)} MB file)`);
  console.log(`  bulk requests    ${c.requests}`);
  console.log(`  throughput       ${c.rowsPerSecond.toFixed(0)} rows/s end to end (${c.seconds.toFixed(1)} s: two reads of S3, one parse, the bulk requests)`);
  console.log(`  phases           check ${c.checkSeconds.toFixed(1)} s (read and parse the whole file), send ${(c.seconds - c.checkSeconds).toFixed(1)} s`);
  console.log(`  job CPU          ${c.cpuSeconds.toFixed(1)} s user+sys (${(c.rows / c.cpuSeconds).toFixed(0)} rows per CPU-second of the job's process)`);
  console.log(`  job peak RSS     ${c.peakRssMb.toFixed(0)} MB (VmHWM of the job's own process; ${c.rssBeforeMb.toFixed(0)} MB before the import started)`);
  console.log(`  emulators RSS    ${c.emulatorsPeakRssMb.toFixed(0)} MB (the other process: the embedded S3 holding the whole file, the sandbox)`);
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

if (!values.only || values.only === 'cost') {
  console.log();
  printCost(
    await benchCost({
      backfillRecords: records,
      callbacks,
      callbackRate: Number(values['callback-rate']),
      trickle: Number(values.trickle),
      brazeLatencyMs: Number(values['braze-ms']),
      sqsLatencyMs: Number(values['sqs-ms']),
    }),
  );
}
