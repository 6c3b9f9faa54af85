/** What the local sandbox (local/sandbox.ts) hands a partner's answer function, and what it expects back. */
export interface SandboxRequest {
  method: string;
  /** Path under the partner's prefix, with the query string. */
  path: string;
  body: unknown;
  /**
   * The sandbox URL prefix of this partner, e.g. `http://127.0.0.1:PORT/braze`, so that an answer can
   * hand out URLs pointing back at the sandbox (a download link). The sandbox always sets it; it is
   * optional only so that an answer can be called without one (it then has no URL to give).
   */
  baseUrl?: string;
}

export interface SandboxAnswer {
  status: number;
  /**
   * Sent as JSON; but with `contentType` set, a string or byte body is sent as it is (e.g. the XML
   * error body of S3). Ignored when `stream` is set.
   */
  body: unknown;
  /** One short line for the terminal: counts, never values. */
  summary: string;
  /**
   * A binary body too large to build whole (e.g. a ZIP of 500,000 users): called once per request,
   * piped to the response with backpressure; the stream is destroyed when the client goes away, and a
   * stream error destroys the response (the client sees an aborted body, as with a real server).
   */
  stream?: () => NodeJS.ReadableStream | AsyncIterable<Uint8Array>;
  /** The response's content-type: `application/json` unless set; `application/octet-stream` for a stream unless set. */
  contentType?: string;
}
