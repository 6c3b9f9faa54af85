/**
 * `bridge send <flow> <file|->`: posts a sample to a running bridge (`npm start`, or the deployed
 * API with --url) on the flow's route, with the inbound token the way the route accepts it first.
 */
import { fillPath, flowById, tokenScheme } from './catalogue-lookup';
import { type CliIo, CommandFailed, lineWriter, prettyJson, readSample, UsageError } from './io';

export const DEFAULT_BRIDGE_URL = 'http://localhost:3000';

export interface SendOptions {
  url?: string;
  token?: string;
  param?: Record<string, string>;
  json?: boolean;
}

export async function sendCommand(flowId: string, file: string, options: SendOptions, io: CliIo): Promise<void> {
  const flow = flowById(flowId);
  const token = options.token ?? (io.env ?? process.env).INBOUND_TOKEN;
  if (!token) throw new UsageError('no inbound token: pass --token <token> or set INBOUND_TOKEN (npm start prints it)');
  const path = fillPath(flow, options.param ?? {}, false);
  const scheme = tokenScheme(flow);
  let target: URL;
  try {
    target = new URL(`${(options.url ?? DEFAULT_BRIDGE_URL).replace(/\/+$/, '')}${path}`);
  } catch {
    throw new UsageError(`--url must be a URL such as ${DEFAULT_BRIDGE_URL}, got "${options.url}"`);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (scheme === 'bearer') headers.authorization = `Bearer ${token}`;
  else target.searchParams.set('token', token);
  const shown = new URL(target);
  if (shown.searchParams.has('token')) shown.searchParams.set('token', '****');
  const printable = shown.toString();

  const body = await readSample(file, io);
  let response: Response;
  try {
    response = await fetch(target, { method: flow.method, headers, body });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new CommandFailed(
      `${flow.method} ${printable} failed: ${cause ?? (error instanceof Error ? error.message : String(error))} (is the bridge running?)`,
    );
  }
  const text = await response.text();
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    /* kept as text */
  }
  const line = lineWriter(io.out);
  if (options.json) {
    line(prettyJson({ flow: flow.id, url: printable, auth: scheme, status: response.status, answer }));
  } else {
    line(`${flow.method} ${printable} -> ${response.status}`);
    line(typeof answer === 'string' ? answer : prettyJson(answer));
  }
  if (!response.ok) throw new CommandFailed('', 1);
}
