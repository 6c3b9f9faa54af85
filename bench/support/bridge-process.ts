import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `npm start` as a process of its own: its URL, pid, and its peak RSS when stopped. */
export interface BridgeProcess {
  url: string;
  pid: number;
  /** The process's peak resident set so far (VmHWM in /proc/<pid>/status), MB; undefined where /proc is not. */
  peakRssMb: () => number | undefined;
  /** CPU seconds (user + system) the process has used so far; undefined where /proc is not. */
  cpuSeconds: () => number | undefined;
  /** SIGTERM (npm start's own shutdown), then waits for it to exit; resolves with its peak RSS read just before. */
  stop: () => Promise<number | undefined>;
}

/**
 * Starts `local/start.ts` (what `npm start` runs) as a child Node process with `env` added to this
 * one's (PORT=0 unless given), under the same Node with tsx's loader, so that the pid is the bridge
 * itself; `nodeArgs` go before the script (e.g. `--cpu-prof`). Resolves once it listens.
 */
export async function startBridgeProcess(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<BridgeProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'local/start.ts'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4_000)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const port = /listening on http:\/\/localhost:(\d+)/.exec(out)?.[1];
      if (port) {
        child.stdout?.off('data', onData);
        // Its lines (one per request and call) are read and dropped, so a full pipe never holds it up.
        child.stdout?.resume();
        resolve(`http://127.0.0.1:${port}`);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the bridge exited (${code}) before listening: ${stderr}`)));
  });
  const pid = child.pid as number;
  const peakRssMb = () => vmHwmMb(pid);
  return { url, pid, peakRssMb, cpuSeconds: () => cpuSeconds(pid), stop: () => stopChild(child, peakRssMb) };
}

async function stopChild(child: ChildProcess, peakRssMb: () => number | undefined): Promise<number | undefined> {
  const peak = peakRssMb();
  if (child.exitCode !== null) return peak;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
  return peak;
}

function vmHwmMb(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** utime + stime of /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
