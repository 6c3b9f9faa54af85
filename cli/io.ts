/**
 * What a command reads and writes, so that `main(argv, io)` runs in-process in the tests exactly as
 * `bin/bridge.mjs` runs it in a terminal.
 */
import type { Readable } from 'node:stream';

export interface CliIo {
  /** Raw writes to standard output / standard error (the text carries its own newlines). */
  out: (text: string) => void;
  err: (text: string) => void;
  /** Where `-` reads a sample from. */
  stdin?: Readable;
  /** The environment (settings, INBOUND_TOKEN, AWS_REGION ...); defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Standard output is a terminal (the sync draws a progress bar). */
  isTTY?: boolean;
  /** How `dlq redrive` waits between polls (the tests do not wait). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * A CloudFormation stack's outputs, by key; undefined when they cannot be read (the
   * CloudFormation client is not installed). Defaults to DescribeStacks when it is installed.
   */
  stackOutputs?: (stack: string, region: string | undefined) => Promise<Record<string, string> | undefined>;
}

export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stdin: process.stdin,
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
  };
}

/** A mistake in the command line (exit code 2), said in one line without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command that ran and failed (exit code 1): its message is printed, its output already was. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const lineWriter =
  (write: (text: string) => void) =>
  (text = '') =>
    write(`${text}\n`);

export const plural = (count: number, noun: string) => `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;

/** `name=value` options (repeatable) into a record. */
export function collectPairs(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new UsageError(`--param wants name=value, got "${value}"`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** A whole number option within bounds. */
export function wholeNumber(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/** Reads a sample: a file, or standard input for `-`. */
export async function readSample(file: string, io: CliIo): Promise<Buffer> {
  if (file === '-') {
    if (!io.stdin) throw new UsageError('no standard input to read the sample from');
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks);
  }
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

export const prettyJson = (value: unknown) => JSON.stringify(value, null, 2);
