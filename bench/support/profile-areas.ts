import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of a V8 CPU profile (`--cpu-prof`) read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** The areas of docs/benchmarks.md's "where the time goes" tables, by the source a frame comes from, first match. */
const AREAS: readonly [string, RegExp][] = [
  ['embedded queue (fauxqs, its SQLite writes)', /fauxqs|sqlite|fastify/],
  ['start-up (tsx, loading modules)', /tsx|node:internal\/modules|node:internal\/bootstrap/],
  ['SQS client (AWS SDK)', /@smithy|@aws-sdk/],
  ['Powertools, middy and zod', /@aws-lambda-powertools|@middy|\/zod\//],
  ['gzip / gunzip of message bodies', /node:zlib/],
  ['ingress parse, validation, transform', /functions\/lytics|json-input|functions\/core\/ingress/],
  ['packing and delivery, Braze client', /functions\/core\/delivery|functions\/braze|functions\/core\/braze|functions\/core\/http/],
  ['consumer parse, message encoding, runner, polling', /functions\/|local\//],
  ["the profiler itself (the core path's --profile)", /node:inspector/],
  ['HTTP: sockets, parser, streams, the event loop', /^node:|undici/],
];
const HTTP = AREAS.at(-1)![0];

/**
 * Seconds of one profile by area: each sample goes to the innermost frame that has a source (a
 * native call, JSON.parse or a socket write, to what called it), idle and garbage collection apart.
 */
function profileAreas(profile: CpuProfile): Map<string, number> {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const areaOf = (id: number): string => {
    const name = nodes.get(id)?.callFrame.functionName ?? '';
    if (name === '(idle)') return 'idle';
    if (name === '(garbage collector)') return 'garbage collection';
    if (name === 'writev' || name === 'writeUtf8String' || name === 'writeBuffer') return HTTP;
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const { url, functionName } = nodes.get(at)!.callFrame;
      if (url) return AREAS.find(([, pattern]) => pattern.test(`${url} ${functionName}`))?.[0] ?? 'other';
    }
    return 'other';
  };
  const seconds = new Map<string, number>();
  const memo = new Map<number, string>();
  profile.samples.forEach((id, i) => {
    if (!memo.has(id)) memo.set(id, areaOf(id));
    const area = memo.get(id)!;
    seconds.set(area, (seconds.get(area) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1e6);
  });
  return seconds;
}

/** Prints each profile of `dir` (one per thread of the bridge) by area, largest first. */
export function printProfileAreas(dir: string): void {
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const seconds = profileAreas(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile);
    const total = [...seconds.values()].reduce((a, b) => a + b, 0);
    console.log(`  ${file}: ${total.toFixed(2)} s profiled`);
    for (const [area, s] of [...seconds].sort((a, b) => b[1] - a[1])) console.log(`    ${s.toFixed(2).padStart(6)}  ${area}`);
  }
}
