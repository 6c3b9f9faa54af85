import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { deliveryQueues, ingressFlows, jobs } from '../functions/catalogue';
import { ESM_REQUIRE_BANNER, LAMBDA_BUNDLE_ALIASES, LAMBDA_NODE_OPTIONS } from '../lib/constructs/bridge-function';

type BundleKind = 'empty' | 'reference' | 'ingress' | 'consumer' | 'job';

/** The functions' NODE_OPTIONS before LAMBDA_NODE_OPTIONS (source maps parsed at every cold start). */
const SOURCE_MAPS_NODE_OPTIONS = '--enable-source-maps';

export interface PackageBytes {
  /** An npm package (`@aws-sdk/client-sqs`), or a folder of ours (`functions/core`). */
  name: string;
  /** Bytes it takes in the minified bundle (esbuild metafile `bytesInOutput`). */
  bytes: number;
}

export interface BundleFigure {
  entry: string;
  kind: BundleKind;
  /** What the row is, for the table. */
  label: string;
  /** NODE_OPTIONS it was timed with. */
  nodeOptions: string;
  bytes: number;
  /** Median time to import the bundle in a fresh Node process (module evaluation, no invocation). */
  importMs: number;
  packages: PackageBytes[];
}

export interface BuiltBundle {
  outfile: string;
  bytes: number;
  metafile: Metafile;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, '.bench');

/** The floor every figure is read against: a handler that imports nothing, built and timed the same way. */
const EMPTY_HANDLER = 'bench/empty-handler.ts';
/** The reference: this ingress built as before the aliases (the SDK's default credential chain bundled). */
const REFERENCE_INGRESS = 'functions/seen/callback.ts';

/**
 * Bundles a handler exactly as the CDK app does (lib/constructs/bridge-function.ts: ESM, minified,
 * SDK bundled, the same banner and aliases, a linked source map without sources), with esbuild's
 * metafile. `write: false` only measures.
 */
export async function buildLikeLambda(
  entry: string,
  options: { aliases?: Readonly<Record<string, string>>; write?: boolean; name?: string } = {},
): Promise<BuiltBundle> {
  const outfile = path.join(outDir, `${options.name ?? entry.replace(/[/.]/g, '_')}.mjs`);
  if (options.write !== false) mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    alias: { ...(options.aliases ?? LAMBDA_BUNDLE_ALIASES) },
    outfile,
    write: options.write !== false,
    metafile: true,
    logLevel: 'error',
  });
  const output = result.metafile.outputs[path.relative(root, outfile)];
  if (!output) throw new Error(`esbuild wrote no ${outfile}`);
  return { outfile, bytes: output.bytes, metafile: result.metafile };
}

/** The package (or folder of ours) an esbuild input belongs to. */
function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return input.split('/').slice(0, 2).join('/');
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Bytes of the bundle per package, largest first: an `esbuild --analyze` summed by package. */
export function packagesOf(metafile: Metafile): PackageBytes[] {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...bytes].map(([name, n]) => ({ name, bytes: n })).sort((a, b) => b.bytes - a.bytes);
}

/** The groups the table of docs/benchmarks.md uses. */
function groupOf(name: string): string {
  if (/^@aws-sdk\/(credential-provider-(?!env$)|nested-clients$|token-providers$)|^@smithy\/credential-provider-imds$/.test(name))
    return 'SDK credential chain';
  if (name.startsWith('@aws-sdk/client-')) return name.slice('@aws-sdk/'.length);
  if (name.startsWith('@aws-sdk/') || name.startsWith('@smithy/')) return 'SDK core';
  if (name.startsWith('@aws-lambda-powertools/') || name === '@aws/lambda-invoke-store' || name === '@middy/core') return 'Powertools + middy';
  if (name === 'zod') return 'zod';
  if (name.startsWith('functions/') || name.startsWith('bench/')) return 'ours';
  return name;
}

export function groupsOf(packages: readonly PackageBytes[]): PackageBytes[] {
  const bytes = new Map<string, number>();
  for (const p of packages) bytes.set(groupOf(p.name), (bytes.get(groupOf(p.name)) ?? 0) + p.bytes);
  return [...bytes].map(([name, n]) => ({ name, bytes: n })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * Times `import()` of each file in a fresh Node process with its NODE_OPTIONS (the functions' by
 * default), `runs` times each, round-robin (so a busy moment of the machine falls on every bundle
 * alike); medians.
 */
function timeImports(bundles: readonly { outfile: string; nodeOptions?: string }[], runs = 9): number[] {
  const times = bundles.map(() => [] as number[]);
  for (let run = 0; run < runs; run++) {
    bundles.forEach(({ outfile, nodeOptions = LAMBDA_NODE_OPTIONS }, i) => {
      const script = `const t = performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now() - t);`;
      const env = { ...process.env, NODE_OPTIONS: nodeOptions };
      times[i]!.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env }).trim()));
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)] ?? Number.NaN);
}

/**
 * Every handler the catalogue names, beside the empty handler and two references (the first ingress
 * bundled with the SDK's default credential chain, as before the aliases: timed as it was deployed,
 * with source maps parsed at start, and as the functions run now), built and timed on the same run.
 */
export async function measureAllBundles(runs = 9): Promise<BundleFigure[]> {
  const kinds = new Map<string, BundleKind>();
  for (const flow of ingressFlows) kinds.set(flow.entry, 'ingress');
  for (const queue of deliveryQueues) kinds.set(queue.consumer.entry, 'consumer');
  for (const job of jobs) kinds.set(job.entry, 'job');
  const short = (entry: string) => entry.replace(/^functions\//, '');
  const plan: { entry: string; kind: BundleKind; label: string; aliases?: Record<string, string>; name?: string; nodeOptions?: string }[] = [
    { entry: EMPTY_HANDLER, kind: 'empty', label: `empty handler (${EMPTY_HANDLER})` },
    {
      entry: REFERENCE_INGRESS,
      kind: 'reference',
      label: `${short(REFERENCE_INGRESS)} before: default chain, source maps`,
      aliases: {},
      name: 'reference-default-credential-chain',
      nodeOptions: SOURCE_MAPS_NODE_OPTIONS,
    },
    {
      entry: REFERENCE_INGRESS,
      kind: 'reference',
      label: `${short(REFERENCE_INGRESS)} before: default chain`,
      aliases: {},
      name: 'reference-default-credential-chain',
    },
    ...[...kinds].map(([entry, kind]) => ({ entry, kind, label: short(entry) })),
  ];
  const built: BuiltBundle[] = [];
  for (const item of plan) built.push(await buildLikeLambda(item.entry, { aliases: item.aliases, name: item.name }));
  const importMs = timeImports(
    plan.map((item, i) => ({ outfile: built[i]!.outfile, nodeOptions: item.nodeOptions })),
    runs,
  );
  return plan.map((item, i) => ({
    entry: item.entry,
    kind: item.kind,
    label: item.label,
    nodeOptions: item.nodeOptions ?? LAMBDA_NODE_OPTIONS,
    bytes: built[i]!.bytes,
    importMs: importMs[i]!,
    packages: packagesOf(built[i]!.metafile),
  }));
}
