import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { deliveryQueues, ingressFlows, jobs } from '../functions/catalogue';
import { ESM_REQUIRE_BANNER } from '../lib/constructs/bridge-function';

export interface BundleFigure {
  entry: string;
  bytes: number;
  /** Median time to import the bundle in a fresh Node process (module evaluation, no invocation). */
  importMs: number;
}

const root = path.resolve(import.meta.dirname, '..');

/** Bundles a handler exactly as the CDK app does (ESM, minified, SDK bundled) and times its import. */
export async function measureBundle(entry: string, runs = 7): Promise<BundleFigure> {
  const outfile = path.join(root, '.bench', `${entry.replace(/[/.]/g, '_')}.mjs`);
  mkdirSync(path.dirname(outfile), { recursive: true });
  await build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    outfile,
    logLevel: 'error',
  });
  const script = `const t = performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now() - t);`;
  const times = Array.from({ length: runs }, () => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()));
  times.sort((a, b) => a - b);
  return { entry, bytes: statSync(outfile).size, importMs: times[Math.floor(times.length / 2)] ?? Number.NaN };
}

export async function measureAllBundles(): Promise<BundleFigure[]> {
  const entries = [...new Set([...ingressFlows.map((f) => f.entry), ...deliveryQueues.map((q) => q.consumer.entry), ...jobs.map((j) => j.entry)])];
  const figures: BundleFigure[] = [];
  for (const entry of entries) figures.push(await measureBundle(entry));
  return figures;
}
