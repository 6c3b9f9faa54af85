/**
 * `bridge`: the operator's command line (bin/bridge.mjs runs `main`). Every flow, queue and job it
 * knows comes from the catalogue (functions/catalogue.ts).
 *
 *   bridge flows                         the flows, routes, auth, queues and jobs
 *   bridge transform <flow> <file|->     dry run: the downstream requests the sample becomes
 *   bridge send <flow> <file|->          post a sample to a running bridge
 *   bridge dlq list|peek|redrive         DLQs of a deployed stack, or of npm start with --local
 *   bridge import <job> <file>           run an upload job locally
 *   bridge sync <job>                    run a scheduled job once, locally
 *   bridge doctor                        one harmless authenticated call per destination: what works, what is refused, why
 *   bridge setup <partner>               create what the partner's flows need at the destination (idempotent), or say what to create by hand
 *
 * Exit codes: 0 done; 1 the command ran and failed (a 400, a refused send, a failed import); 2 a
 * wrong command line.
 */
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_LOCAL_URL, DEFAULT_STACK, type DlqOptions, dlqList, dlqPeek, dlqRedrive } from './dlq';
import { DEFAULT_DOCTOR_TIMEOUT_SECONDS, type DoctorOptions, doctorCommand } from './doctor';
import { flowsCommand } from './flows';
import { type CliIo, CommandFailed, collectPairs, lineWriter, processIo, UsageError, wholeNumber } from './io';
import { importCommand, syncCommand, uploadJobOptions } from './jobs';
import { DEFAULT_BRIDGE_URL, sendCommand } from './send';
import { partnersWithSetup, type SetupOptions, setupCommand } from './setup';
import { transformCommand } from './transform';

export type { CliIo } from './io';

/** `--local`'s value: a URL (so `--local <queue>` is not read as one). */
function localUrl(value: string): string {
  if (!/^https?:\/\//.test(value)) throw new UsageError(`--local takes a URL such as ${DEFAULT_LOCAL_URL}, got "${value}" (put the queue before --local)`);
  return value;
}

function program(io: CliIo): Command {
  const root = new Command('bridge')
    .description('Operate braze-partner-bridge: dry-run and send samples, look at and redrive DLQs, run jobs.')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError('(bridge --help for usage)');

  root
    .command('flows')
    .description('list the flows (route, auth, queues), the queues and the jobs of the catalogue')
    .option('--json', 'machine-readable output')
    .action((options: { json?: boolean }) => flowsCommand(options, io));

  root
    .command('transform')
    .description(
      'dry run: print the exact downstream requests (method, URL, headers with secrets masked, body) a sample ' +
        'becomes, or the 400 issues; only loopback, every destination sandboxed',
    )
    .argument('<flow>', 'flow id (bridge flows)')
    .argument('<file>', 'the sample request body, - for standard input')
    .option('--param <name=value>', 'a path parameter of the route (repeatable); one not given is filled with its own name', collectPairs)
    .option('--json', 'machine-readable output')
    .option('--timeout <seconds>', 'longest wait for the queues to empty', wholeNumber('--timeout', 1, 3600), 30)
    .option('--verbose', "print the local runner's lines on standard error")
    .action((flow: string, file: string, options) => transformCommand(flow, file, options, io));

  root
    .command('send')
    .description("post a sample to a running bridge on the flow's route, with the inbound token as the route accepts it first")
    .argument('<flow>', 'flow id (bridge flows)')
    .argument('<file>', 'the request body, - for standard input')
    .option('--url <url>', `base URL of the bridge (the deployed API's BaseUrl output)`, DEFAULT_BRIDGE_URL)
    .option('--token <token>', 'inbound token (default: INBOUND_TOKEN)')
    .option('--param <name=value>', 'a path parameter of the route (repeatable, required for each)', collectPairs)
    .option('--json', 'machine-readable output')
    .action((flow: string, file: string, options) => sendCommand(flow, file, options, io));

  const dlq = root.command('dlq').description(`the delivery queues' DLQs: of a deployed stack (default ${DEFAULT_STACK}), or of npm start with --local`);
  const targetOptions = (command: Command) =>
    command
      .option('--stack <name>', `CloudFormation stack (AWS; default ${DEFAULT_STACK})`)
      .option('--region <region>', 'AWS region (default: AWS_REGION / the profile)')
      .addOption(new Option('--local [url]', `npm start's embedded queues instead of AWS (default ${DEFAULT_LOCAL_URL})`).argParser(localUrl))
      .option('--json', 'machine-readable output');
  targetOptions(
    dlq
      .command('list')
      .description('messages waiting in each queue and parked in its DLQ (locally with the parked reasons)')
      .argument('[queue]', 'one queue only'),
  ).action((queue: string | undefined, options: DlqOptions) => dlqList(queue, options, io));
  targetOptions(
    dlq
      .command('peek')
      .description('read parked messages without removing them: counts per parked_reason; bodies only with --show-bodies (user data)')
      .argument('<queue>', 'queue id (bridge flows)')
      .option('--max <n>', 'most messages to read', wholeNumber('--max', 0, 1000), 10)
      .option('--show-bodies', 'print the message bodies (they hold user data)'),
  ).action((queue: string, options: DlqOptions) => dlqPeek(queue, options, io));
  targetOptions(
    dlq
      .command('redrive')
      .description('move every parked message back to its queue (AWS: StartMessageMoveTask, then its progress)')
      .argument('<queue>', 'queue id (bridge flows)')
      .option('--poll-seconds <n>', 'AWS: seconds between progress checks', wholeNumber('--poll-seconds', 1, 300), 5),
  ).action((queue: string, options: DlqOptions) => dlqRedrive(queue, options, io));

  const importing = root
    .command('import')
    .description('run an upload job locally: the file uploaded to an embedded S3 and the job run on its S3 event (destination: sandbox unless its URL is set)')
    .argument('<job>', 'upload job id (bridge flows)')
    .argument('<file>', 'the file to import');
  for (const option of uploadJobOptions()) importing.addOption(option);
  importing.action((job: string, file: string, options: Record<string, unknown>) => importCommand(job, file, options, io));

  root
    .command('sync')
    .description('run a scheduled job once, locally, as its state machine runs it in AWS (destinations: sandbox unless their URLs are set)')
    .argument('<job>', 'scheduled job id (bridge flows)')
    .action((job: string) => syncCommand(job, io));

  root
    .command('doctor')
    .description(
      `one harmless authenticated call to each destination with the configured credentials, and a table of ` +
        `what works, what is refused and why: of a deployed stack (default ${DEFAULT_STACK}), or of npm start's ` +
        `environment with --local`,
    )
    .option('--stack <name>', `CloudFormation stack (AWS; default ${DEFAULT_STACK}): each consumer's settings and secret`)
    .option('--region <region>', 'AWS region (default: AWS_REGION / the profile)')
    .option('--local', 'the environment npm start reads instead of AWS (a destination with no URL set is sandboxed: nothing to check)')
    .option('--timeout <seconds>', 'longest wait for each answer', wholeNumber('--timeout', 1, 120), DEFAULT_DOCTOR_TIMEOUT_SECONDS)
    .option('--json', 'machine-readable output')
    .action((options: DoctorOptions) => doctorCommand(options, io));

  root
    .command('setup')
    .description(
      `create, idempotently, what a partner's flows need at the destination (its schema fields, identifiers ` +
        `...), or print exactly what to create by hand: with a deployed stack's settings and secret (default ` +
        `${DEFAULT_STACK}), or npm start's environment with --local (its sandbox when the URL is unset)`,
    )
    .argument('<partner>', `the partner: ${partnersWithSetup().join(', ')}`)
    .option('--stack <name>', `CloudFormation stack (AWS; default ${DEFAULT_STACK}): the consumer's settings and secret`)
    .option('--region <region>', 'AWS region (default: AWS_REGION / the profile)')
    .option('--local', "the environment npm start reads instead of AWS (with the destination's URL unset, npm start's sandbox answers)")
    .option('--timeout <seconds>', 'longest wait for each answer', wholeNumber('--timeout', 1, 120), DEFAULT_DOCTOR_TIMEOUT_SECONDS)
    .option('--json', 'machine-readable output')
    .action((partner: string, options: SetupOptions) => setupCommand(partner, options, io));

  return root;
}

/** Runs the command line `argv` (without `node` and the script); resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const err = lineWriter(io.err);
  try {
    await program(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are answers; anything else commander refused is a wrong command line.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UsageError) {
      err(`bridge: ${error.message}`);
      return 2;
    }
    if (error instanceof CommandFailed) {
      if (error.message) err(`bridge: ${error.message}`);
      return error.exitCode;
    }
    err(`bridge: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
