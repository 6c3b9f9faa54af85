/**
 * `bridge setup <partner>`: what a partner's flows need to exist at the destination before they
 * can deliver, created through the destination's API where it allows it, and, where it does not,
 * exactly what to create by hand and where. What a partner needs is its own, declared beside it
 * (functions/<partner>/setup.ts, the `setup` of its catalogue entry); this command names no partner.
 * Idempotent: what exists is left as it is, so it may be run again after any change.
 *
 * Where the settings come from, as for `bridge doctor` (cli/doctor.ts):
 * - `--local`: the environment `npm start` reads; with the destination's URL unset, npm start's
 *   sandbox answers the calls as the destination would (nothing leaves the machine);
 * - otherwise a deployed stack (`--stack`, default BrazePartnerBridge): the environment of the
 *   destination's consumer function and the secret it names.
 * Redirects are never followed; no URL or credential is printed. Exit 0 when everything exists or
 * was created (or was not asked for); 1 when anything failed or must be created by hand.
 */
import { partners } from '../functions/catalogue';
import type { SetupStep } from '../functions/core/catalogue-types';
import { joinUrl } from '../functions/core/http';
import { type Sandbox, startSandboxFor } from '../local/sandbox';
import { DEFAULT_STACK } from './dlq';
import { awsTarget, ConfigurationFault, type Credentials, call, DEFAULT_DOCTOR_TIMEOUT_SECONDS, localTarget, redactor, type Target } from './doctor';
import { type CliIo, CommandFailed, lineWriter, prettyJson, UsageError } from './io';

export interface SetupOptions {
  stack?: string;
  local?: boolean;
  region?: string;
  json?: boolean;
  /** Longest wait for one answer, in seconds. */
  timeout?: number;
}

/** Results that make `setup` exit 1: something is not there yet. */
const UNFINISHED: ReadonlySet<SetupStep['result']> = new Set(['failed', 'manual']);

/** The partners that declare a set-up, by id. */
export function partnersWithSetup(): string[] {
  return partners.filter((partner) => partner.setup).map((partner) => partner.id);
}

export async function setupCommand(partnerId: string, options: SetupOptions, io: CliIo): Promise<void> {
  if (options.local && options.stack) throw new UsageError('--local and --stack name different configurations: give one');
  const partner = partners.find((candidate) => candidate.id === partnerId);
  const setup = partner?.setup;
  if (!partner || !setup) throw new UsageError(`no set-up for "${partnerId}": bridge setup takes ${partnersWithSetup().join(', ')}`);
  const timeoutSeconds = options.timeout ?? DEFAULT_DOCTOR_TIMEOUT_SECONDS;
  const env = { ...(io.env ?? process.env) };

  // --local with the destination's URL unset: npm start's sandbox stands in, as it would for the flows.
  let sandbox: Sandbox | undefined;
  if (options.local && !env[setup.urlSetting]) sandbox = (await startSandboxFor([partner], env, () => undefined)).sandbox;
  let target: Target | undefined;
  const credentialValues = new Set<string>();
  let steps: SetupStep[];
  try {
    target = options.local ? localTarget(env) : await awsTarget(options.stack ?? DEFAULT_STACK, options.region ?? io.env?.AWS_REGION);
    const resolved = await target.resolve(partner, setup);
    if (resolved.kind === 'skip') throw new CommandFailed(`${partner.id}: ${resolved.why}`);
    let credentials: Credentials;
    try {
      credentials = await resolved.credentials();
    } catch (error) {
      if (error instanceof ConfigurationFault) throw new CommandFailed(`${partner.id}: ${error.message}`);
      throw error;
    }
    for (const value of Object.values(credentials)) if (value) credentialValues.add(value);
    const missing = partner.secret.outbound.filter((field) => !credentials[field]);
    if (missing.length > 0) throw new CommandFailed(`${partner.id}: no credential: ${missing.map(resolved.credentialName).join(', ')} not set`);
    const base = resolved.settings[setup.urlSetting]!;
    steps = await setup.run({
      settings: resolved.settings,
      credential: (field) => credentials[field] ?? '',
      call: async (request) => {
        const answer = await call(joinUrl(base, request.path), request, timeoutSeconds);
        if ('fault' in answer) throw new Error(answer.fault);
        return answer;
      },
      wait: io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    });
  } finally {
    target?.close();
    await sandbox?.stop();
  }

  const redact = redactor(credentialValues);
  steps = steps.map((step) => ({ ...step, why: redact(step.why) }));
  const unfinished = steps.filter((step) => UNFINISHED.has(step.result));
  const where = sandbox
    ? `the sandbox (${setup.urlSetting} is not set: npm start's stand-in answered as the destination would; nothing left this machine)`
    : options.local
      ? 'the local configuration (the environment npm start reads)'
      : `stack ${options.stack ?? DEFAULT_STACK}${options.region ? ` (${options.region})` : ''}`;

  const line = lineWriter(io.out);
  if (options.json) {
    line(prettyJson({ partner: partner.id, target: where, sandboxed: Boolean(sandbox), ok: unfinished.length === 0, source: setup.source, steps }));
  } else {
    line(`bridge setup ${partner.id}: ${where}`);
    line(`${setup.description}`);
    const itemWidth = Math.max('item'.length, ...steps.map((step) => step.item.length));
    const resultWidth = Math.max('result'.length, ...steps.map((step) => step.result.length));
    line(`${'item'.padEnd(itemWidth)}  ${'result'.padEnd(resultWidth)}  why`);
    for (const step of steps) line(`${step.item.padEnd(itemWidth)}  ${step.result.padEnd(resultWidth)}  ${step.why}`);
    const counts = new Map<string, number>();
    for (const step of steps) counts.set(step.result, (counts.get(step.result) ?? 0) + 1);
    line(`${steps.length} steps: ${[...counts].map(([result, count]) => `${count} ${result}`).join(', ')}`);
  }
  if (unfinished.length > 0) {
    const verb = unfinished.length === 1 ? 'is' : 'are';
    const byHand = unfinished.some((step) => step.result === 'manual') ? 'create by hand what the table says, or ' : '';
    throw new CommandFailed(
      `${unfinished.length} of ${steps.length} steps ${verb} not done: ${byHand}fix what it names and run bridge setup ${partner.id} again`,
    );
  }
}
