import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { StubServer } from '../../bench/support/stub-server';
import { DataDirInUseError } from '../../local/data-dir-lock';
import type { Runner } from '../../local/runner';
import { post, startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

const seedCallback = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/seen/callback.json'), 'utf8')) as Record<string, unknown>;
/** Over API Gateway's 10 MB cap, which the runner answers 413 before any handler. */
const OVERSIZE_BYTES = 11 * 1024 * 1024;

/** A GET or POST through node:http with a chosen Host header (fetch does not let a caller set it). */
function withHost(url: string, host: string, method = 'GET'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Writes raw HTTP on a socket of its own and reads until the server ends the connection, or
 * `waitMs` passes (then `closedByServer` is false): a raw socket never closes on its own, so the
 * server's FIN is the only way it ends.
 */
function rawExchange(port: number, head: string, body: Buffer | string, waitMs = 10_000): Promise<{ response: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response, closedByServer: false });
    }, waitMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, closedByServer: true });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // A reset after the answer still counts as the server closing; a reset before it is the bug.
      if (response.startsWith('HTTP/1.1')) resolve({ response, closedByServer: true });
      else reject(error);
    });
    socket.write(head);
    socket.write(body);
  });
}

describe('npm start answers before reading a body, and closes that connection', () => {
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner({ INBOUND_TOKEN: 'conn-token' });
  });
  afterAll(() => stopAll(() => runner?.stop()));

  it('answers an oversize body 413 with Connection: close, then 40 concurrent pooled requests all succeed', async () => {
    const oversize = await fetch(`${runner.url}/seen/callback`, {
      method: 'POST',
      headers: { authorization: 'Bearer conn-token', 'content-type': 'application/json' },
      body: 'x'.repeat(OVERSIZE_BYTES),
    });
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(`${runner.url}/seen/callback`, {
          method: 'POST',
          headers: { authorization: 'Bearer conn-token', 'content-type': 'application/json' },
          body: JSON.stringify({ ...seedCallback, customer_id: `pooled-${i}` }),
        }).then(
          (response) => response.status,
          (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
        ),
      ),
    );

    expect(oversize.status).toBe(413);
    expect(oversize.headers.get('connection')).toBe('close');
    expect(statuses).toEqual(Array.from({ length: 40 }, () => 202));
  });

  it('closes the connection of a 413 once the answer is sent', async () => {
    const body = Buffer.alloc(OVERSIZE_BYTES, 'x');
    const head =
      `POST /seen/callback HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer conn-token\r\nContent-Type: ` +
      `application/json\r\nContent-Length: ${body.length}\r\n\r\n`;

    const { response, closedByServer } = await rawExchange(runner.port, head, body);

    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(closedByServer).toBe(true);
  });

  it('closes the connection of any answer sent while the body is still coming (here a 404)', async () => {
    // A chunked body of which only the first chunk is sent: the route does not exist, so it is never read.
    const head = 'POST /no-such-route HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';

    const { response, closedByServer } = await rawExchange(runner.port, head, '5\r\n{"a":\r\n');

    expect(response).toMatch(/^HTTP\/1\.1 404 /);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(closedByServer).toBe(true);
  });

  it('keeps the connection of a request whose body it read', async () => {
    const body = JSON.stringify(seedCallback);
    const head =
      `POST /seen/callback HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer conn-token\r\nContent-Type: ` +
      `application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;

    // A second request behind it on the same socket, asking to close: its answer shows the first left the connection open.
    const last = head.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n');
    const { response, closedByServer } = await rawExchange(runner.port, head, `${body}${last}${body}`);

    const [first, second] = response.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 202 /);
    expect(first!.toLowerCase()).not.toContain('connection: close');
    expect(second).toMatch(/^HTTP\/1\.1 202 /);
    expect(closedByServer).toBe(true);
  });
});

describe('the operator routes of npm start answer only under this machine’s name', () => {
  let runner: Runner;

  beforeAll(async () => {
    runner = await startTestRunner({ INBOUND_TOKEN: 'host-token' });
  });
  afterAll(() => stopAll(() => runner?.stop()));

  it.each([
    ['GET', '/'],
    ['GET', '/_console/state'],
    ['GET', '/_sandbox/requests'],
    ['GET', '/_dlq'],
    ['GET', '/_dlq/braze-track'],
    ['POST', '/_dlq/braze-track/redrive'],
  ])('refuses %s %s under another Host (403), and answers it on localhost', async (method, route) => {
    const elsewhere = await withHost(`${runner.url}${route}`, 'bridge.example.com', method);
    const rebound = await withHost(`${runner.url}${route}`, `127.0.0.1.nip.io:${runner.port}`, method);
    const local = await withHost(`${runner.url}${route}`, `localhost:${runner.port}`, method);

    expect(elsewhere.status).toBe(403);
    expect(elsewhere.text).toContain('only on localhost');
    expect(rebound.status).toBe(403);
    expect(local.status).toBe(200);
  });

  it('serves the partners’ routes, /_health and /openapi.json under any Host, as API Gateway would', async () => {
    const accepted = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${runner.url}/seen/callback`,
        { method: 'POST', headers: { host: 'bridge.example.com', authorization: 'Bearer host-token', 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(seedCallback));
    });

    expect(accepted).toBe(202);
    expect((await withHost(`${runner.url}/_health`, 'bridge.example.com')).status).toBe(200);
    expect((await withHost(`${runner.url}/openapi.json`, 'bridge.example.com')).status).toBe(200);
  });
});

describe('npm start on a DATA_DIR', () => {
  const braze = new StubServer(() => ({ status: 201, body: { message: 'success' } }));
  let brazeUrl = '';
  let dataDir = '';
  const runners: Runner[] = [];

  beforeAll(async () => {
    brazeUrl = await braze.start();
  });
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'bridge-faults-'));
    braze.requests.length = 0;
  });
  afterEach(() => stopAll(...runners.splice(0).map((runner) => () => runner.stop()), () => rm(dataDir, { recursive: true, force: true })));
  afterAll(() => stopAll(() => braze.stop()));

  const env = () => ({ DATA_DIR: dataDir, INBOUND_TOKEN: 'data-token', BRAZE_REST_ENDPOINT: brazeUrl, BRAZE_API_KEY: 'braze-key' });
  const started = async (options: Parameters<typeof startTestRunner>[1] = {}) => {
    const runner = await startTestRunner(env(), options);
    runners.push(runner);
    return runner;
  };

  it('refuses a second run on the same folder, naming it and the holder, while the first keeps serving', async () => {
    const first = await started();

    const second = startTestRunner(env());

    await expect(second).rejects.toThrow(DataDirInUseError);
    await expect(second).rejects.toThrow(`DATA_DIR ${dataDir} is in use by another npm start (pid ${process.pid})`);
    expect((await fetch(`${first.url}/_health`)).status).toBe(200);
    expect((await post(first, '/seen/callback', seedCallback)).status).toBe(202);
    await braze.waitForRequests(1);
  });

  it('lets the next run have the folder once the first stops', async () => {
    const first = await started();
    await first.stop();
    runners.splice(runners.indexOf(first), 1);

    const next = await started();

    expect((await fetch(`${next.url}/_health`)).status).toBe(200);
  });

  it('delivers at once, after a restart, what the previous run had received and not finished', async () => {
    // The first run accepts a record and "holds" it as a crashed consumer would: received, hidden for an hour.
    const first = await started({ startConsumers: false });
    expect((await post(first, '/seen/callback', seedCallback)).status).toBe(202);
    const held = await first.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: first.queues.get('braze-track')!.url, MaxNumberOfMessages: 10, VisibilityTimeout: 3_600, WaitTimeSeconds: 1 }),
    );
    expect(held.Messages).toHaveLength(1);
    await first.stop();
    runners.splice(runners.indexOf(first), 1);

    const second = await started({ consumerOverrides: { maxBatchingWindowSeconds: 0.2 } });

    expect(second.resumedInFlight).toBe(1);
    // Within seconds (30 s at most), not after the hour the message was hidden for.
    await braze.waitForRequests(1, 30_000);
    expect(JSON.stringify(braze.requests[0]?.body)).toContain(String(seedCallback.customer_id));
  });
});
