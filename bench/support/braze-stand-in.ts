import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface TrackBody {
  attributes?: { external_id?: string; braze_id?: string }[];
  events?: unknown[];
  purchases?: unknown[];
}

/**
 * A loopback stand-in for Braze's `/users/track` that keeps counts only (calls, objects, the first
 * and last call's time), never the bodies, so it runs at any size; it answers 201 after `delayMs`.
 * `waitFor(id)` resolves with the time an attribute object of that `braze_id` arrived.
 */
export class BrazeStandIn {
  calls = 0;
  objects = 0;
  firstCallAt = 0;
  lastCallAt = 0;
  private server?: Server;
  private readonly watched = new Map<string, (at: number) => void>();

  /** `onCall`: told after each call is counted (the threaded stand-in shares its counts from there). */
  constructor(
    private readonly delayMs = 0,
    private readonly onCall?: (standIn: BrazeStandIn) => void,
  ) {}

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TrackBody;
      this.calls++;
      this.objects += (body.attributes?.length ?? 0) + (body.events?.length ?? 0) + (body.purchases?.length ?? 0);
      this.firstCallAt ||= at;
      this.lastCallAt = at;
      this.onCall?.(this);
      if (this.watched.size > 0) {
        for (const attribute of body.attributes ?? []) {
          const resolve = attribute.braze_id === undefined ? undefined : this.watched.get(attribute.braze_id);
          if (resolve) resolve(at);
        }
      }
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"message":"success"}');
    });
    this.server.keepAliveTimeout = 75_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves with the time (performance.now()) an attribute object for `brazeId` arrives. */
  waitFor(brazeId: string): Promise<number> {
    return new Promise((resolve) => this.watched.set(brazeId, resolve));
  }

  /** Resolves once `objects` objects have arrived; rejects after `timeoutMs`. */
  waitForObjects(objects: number, timeoutMs: number): Promise<void> {
    return waitForObjects(this, objects, timeoutMs);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Resolves once `standIn` has counted `objects` objects (checked every 10 ms); rejects after `timeoutMs`. */
export async function waitForObjects(standIn: { readonly objects: number }, objects: number, timeoutMs: number): Promise<void> {
  const started = performance.now();
  while (standIn.objects < objects) {
    if (performance.now() - started > timeoutMs) throw new Error(`only ${standIn.objects} of ${objects} objects reached Braze after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
