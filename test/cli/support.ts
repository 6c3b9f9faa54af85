import { type CliIo, main } from '../../cli/bridge';

export interface CliRun {
  code: number;
  out: string;
  err: string;
  /** Standard output parsed as JSON (for --json). */
  json: <T = Record<string, unknown>>() => T;
}

/** Runs `bridge <argv>` in-process, capturing what it prints. */
export async function bridge(argv: string[], io: Partial<CliIo> = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    env: {},
    isTTY: false,
    ...io,
  });
  return { code, out, err, json: <T>() => JSON.parse(out) as T };
}
