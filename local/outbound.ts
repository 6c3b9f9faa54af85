import { type AttemptInfo, HttpClient, type RetryPolicy } from '../functions/core/http';

/** Outbound attempts kept per destination for the console. */
const RECENT_CALLS = 20;

/** One outbound attempt, as the console shows it: the client's label (never the URL, never a header) and its answer. */
export interface OutboundCall extends AttemptInfo {
  /** The partner (or Braze) called: the destination of the queue whose consumer made the call. */
  destination: string;
  at: string;
}

/**
 * The handlers' HTTP clients, one per destination, so that each attempt is printed and kept under
 * the destination it went to (the last 20, for the console).
 */
export class OutboundCalls {
  private readonly clients = new Map<string, HttpClient>();
  private readonly calls = new Map<string, OutboundCall[]>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly policy?: RetryPolicy,
  ) {}

  /** The client of a destination's calls (the Lambdas' retry policy unless a test hook set one). */
  clientFor(destination: string): HttpClient {
    let client = this.clients.get(destination);
    if (!client) {
      client = new HttpClient({ policy: this.policy, onAttempt: (attempt) => this.record(destination, attempt) });
      this.clients.set(destination, client);
    }
    return client;
  }

  /** The last attempts to a destination (at most 20, oldest first), real or sandboxed. */
  recent(destination: string): readonly OutboundCall[] {
    return [...(this.calls.get(destination) ?? [])];
  }

  private record(destination: string, a: AttemptInfo): void {
    this.log(`  -> ${a.label} ${a.status ?? a.error} (attempt ${a.attempt + 1}, ${a.durationMs} ms)`);
    const calls = this.calls.get(destination) ?? [];
    calls.push({ ...a, destination, at: new Date().toISOString() });
    this.calls.set(destination, calls.slice(-RECENT_CALLS));
  }
}
