/** What the local sandbox (local/sandbox.ts) hands a partner's answer function, and what it expects back. */
export interface SandboxRequest {
  method: string;
  /** Path under the partner's prefix, with the query string. */
  path: string;
  body: unknown;
}

export interface SandboxAnswer {
  status: number;
  body: unknown;
  /** One short line for the terminal: counts, never values. */
  summary: string;
}
