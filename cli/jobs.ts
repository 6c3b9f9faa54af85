/**
 * `bridge import <job> <file>` (upload jobs) and `bridge sync <job>` (scheduled jobs): the same
 * local runs as `npm run job` and the scheduled jobs' npm scripts (local/run-job.ts, local/run-scheduled-job.ts),
 * which print their progress and closing summary themselves.
 */
import { Option } from 'commander';
import { uploadJobs } from '../functions/catalogue';
import { runJob } from '../local/run-job';
import { runScheduledJob } from '../local/run-scheduled-job';
import { scheduledJobById, uploadJobById } from './catalogue-lookup';
import { type CliIo, CommandFailed, lineWriter, UsageError } from './io';

/** Every upload job's local options (`--stream` ...): name -> the jobs that take it. */
export function uploadJobOptions(): Option[] {
  const names = new Map<string, string[]>();
  for (const job of uploadJobs) for (const name of Object.keys(job.localOptions ?? {})) names.set(name, [...(names.get(name) ?? []), job.id]);
  return [...names].map(([name, jobIds]) => {
    const settings = uploadJobs.flatMap((job) => (job.localOptions?.[name] ? [job.localOptions[name]] : []));
    return new Option(`--${name} <value>`, `sets ${[...new Set(settings)].join(' / ')} (${jobIds.join(', ')})`);
  });
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function importCommand(jobId: string, file: string, values: Record<string, unknown>, io: CliIo): Promise<void> {
  const job = uploadJobById(jobId);
  const env: Record<string, string | undefined> = { ...(io.env ?? process.env) };
  for (const option of uploadJobOptions()) {
    const value = values[option.attributeName()];
    if (typeof value !== 'string') continue;
    const name = option.long!.slice(2);
    const variable = job.localOptions?.[name];
    if (!variable)
      throw new UsageError(
        `${job.id} has no --${name} option (its options: ${
          Object.keys(job.localOptions ?? {})
            .map((n) => `--${n}`)
            .join(', ') || 'none'
        })`,
      );
    env[variable] = value;
  }
  const line = lineWriter(io.out);
  try {
    await runJob({ job: job.id, file, env, log: (text) => line(text) });
  } catch (error) {
    throw new CommandFailed(`import failed: ${message(error)}`);
  }
}

export async function syncCommand(jobId: string, io: CliIo): Promise<void> {
  const job = scheduledJobById(jobId);
  const line = lineWriter(io.out);
  try {
    await runScheduledJob({ job: job.id, env: { ...(io.env ?? process.env) }, log: (text) => line(text), bar: Boolean(io.isTTY) });
  } catch (error) {
    throw new CommandFailed(`sync failed: ${message(error)}`);
  }
}
