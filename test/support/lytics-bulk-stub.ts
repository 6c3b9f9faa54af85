import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'csv-parse';
import { exportRow, indexOfExternalId } from '../../bench/support/csv';

export interface BulkAttempt {
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  /** Status answered. */
  status: number;
  /** Data rows in the body (counted only for attempts answered 200). */
  rows: number;
  /** Whether the body's first row was the expected header. */
  headerFirst: boolean;
}

/**
 * A loopback Lytics bulk CSV API for big bodies: parses each body as it streams in (csv-parse,
 * so quoted newlines count right), keeps per-row delivery counts in a byte array and nothing of
 * the rows themselves, and checks each row's fields against the generator's. `answer` picks the
 * status of each attempt (by arrival order); only rows of 200-answered attempts count as delivered.
 */
export class LyticsBulkStub {
  readonly attempts: BulkAttempt[] = [];
  /** How many times each generated row (by index) was delivered. */
  readonly deliveries: Uint8Array;
  /** Delivered rows whose fields differ from what the generator wrote. */
  altered = 0;
  /** Delivered rows whose external_id is not one the generator writes. */
  unknown = 0;
  private server?: Server;

  constructor(
    capacity: number,
    private readonly expectedHeader: readonly string[],
    public answer: (attempt: number) => number = () => 200,
  ) {
    this.deliveries = new Uint8Array(capacity);
  }

  get deliveredRows(): number {
    return this.attempts.reduce((n, a) => n + (a.status === 200 ? a.rows : 0), 0);
  }

  reset(): void {
    this.attempts.length = 0;
    this.deliveries.fill(0);
    this.altered = 0;
    this.unknown = 0;
    this.answer = () => 200;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.receive(req).then(({ status, rows }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            status === 200 ? { status: 200, message: 'success', data: { message_count: rows, rejected_count: 0 } } : { status, message: 'unavailable' },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async receive(req: IncomingMessage): Promise<{ status: number; rows: number }> {
    const status = this.answer(this.attempts.length);
    const attempt: BulkAttempt = {
      path: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      status,
      rows: 0,
      headerFirst: false,
    };
    this.attempts.push(attempt);
    if (status !== 200) {
      req.resume(); // drain and forget: a refused body is not delivered
      await new Promise((resolve) => req.once('end', resolve));
      return { status, rows: 0 };
    }
    const delivered: number[] = [];
    let first = true;
    for await (const record of req.pipe(parse()) as AsyncIterable<string[]>) {
      if (first) {
        attempt.headerFirst = record.join(',') === this.expectedHeader.join(',');
        first = false;
        continue;
      }
      const index = indexOfExternalId(record[0] ?? '');
      if (index === undefined || index >= this.deliveries.length) {
        this.unknown++;
        continue;
      }
      if (record.join('\u0000') !== exportRow(index).join('\u0000')) this.altered++;
      delivered.push(index);
    }
    for (const index of delivered) this.deliveries[index] = Math.min(255, (this.deliveries[index] ?? 0) + 1);
    attempt.rows = delivered.length;
    return { status, rows: delivered.length };
  }
}
