import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrazeStandIn } from './support/braze-stand-in';

/**
 * Braze's own bulk importer (braze-inc/growth-shares-lambda-user-csv-import: Python, 20 threads, 75
 * objects a call), its checkout at `importerDir`, run by bench/importer/driver.py on a CSV of the
 * same users the backfill bench sends (`bench-<i>`, one attribute), against the same loopback
 * stand-in for /users/track. Users/s from its first call to its last, how issue 23 times it.
 */
export async function printImporter(records: number, importerDir: string | undefined, python: string): Promise<void> {
  console.log(`Braze's importer (growth-shares-lambda-user-csv-import) into the loopback Braze stand-in (${records} users)`);
  if (!importerDir || !existsSync(path.join(importerDir, 'braze_user_csv_import', 'app.py'))) {
    console.log('  skipped: give its checkout with --importer-dir DIR (git clone https://github.com/braze-inc/growth-shares-lambda-user-csv-import)');
    console.log();
    return;
  }
  const folder = mkdtempSync(path.join(os.tmpdir(), 'bpb-importer-'));
  const csvPath = path.join(folder, 'users.csv');
  writeFileSync(csvPath, `external_id,lytics_segment\n${Array.from({ length: records }, (_, i) => `bench-${i},lytics_all\n`).join('')}`);
  const braze = new BrazeStandIn();
  try {
    await runImporter(records, importerDir, python, csvPath, braze);
  } catch (error) {
    console.log(`  failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await braze.stop();
    rmSync(folder, { recursive: true, force: true });
  }
  console.log();
}

/** One run of the importer, its figures printed; throws what went wrong. */
async function runImporter(records: number, importerDir: string, python: string, csvPath: string, braze: BrazeStandIn): Promise<void> {
  const url = await braze.start();
  const env = { ...process.env, IMPORTER_DIR: importerDir, CSV_PATH: csvPath, BRAZE_API_URL: url };
  const output = await run(python, [path.join(import.meta.dirname, 'importer', 'driver.py')], env).catch((error: unknown) => {
    const text = error instanceof Error ? error.message : String(error);
    const missing = /No module named '([^']+)'/.exec(text)?.[1];
    if (!missing) throw error;
    throw new Error(
      `${python} has no ${missing}: the importer needs requests, boto3 and tenacity ` +
        "(pip, or Debian's python3-requests python3-boto3 python3-tenacity with --python /usr/bin/python3)",
    );
  });
  if (braze.objects !== records) throw new Error(`the importer delivered ${braze.objects} of ${records} users (it printed: ${output.slice(-300)})`);
  const seconds = (braze.lastCallAt - braze.firstCallAt) / 1000;
  console.log(`  Braze calls      ${braze.calls} (minimum ceil(N / 75) = ${Math.ceil(records / 75)})`);
  console.log(`  throughput       ${(records / seconds).toFixed(0)} users/s first to last call (${seconds.toFixed(1)} s)`);
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} exited ${code}: ${output.slice(-600)}`))));
  });
}
