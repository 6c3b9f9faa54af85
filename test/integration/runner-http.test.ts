import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import type { Runner } from '../../local/runner';
import { startTestRunner } from '../support/runner-helpers';
import { stopAll } from '../support/teardown';

/** Node's fetch keeps an idle connection 4 s, browsers and load balancers up to 60 s. */
const CLIENT_IDLE_MS = 6_000;

describe('the local runner as an HTTP server', () => {
  let runner: Runner;
  const sockets: Socket[] = [];
  // A client pool that keeps idle sockets for reuse (as fetch, browsers and load balancers do).
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    runner = await startTestRunner({ INBOUND_TOKEN: 'http-token' });
  });
  afterAll(() =>
    stopAll(
      () => agent.destroy(),
      () => {
        for (const socket of sockets) socket.destroy();
      },
      () => runner?.stop(),
    ),
  );

  it('keeps an idle keep-alive connection open longer than clients do, so a reused socket is never reset', async () => {
    // One request on a keep-alive socket, then the socket left idle as a client's pool leaves it.
    const socket = await new Promise<Socket>((resolve, reject) => {
      const req = request(`${runner.url}/_health`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket!));
      });
      req.on('error', reject);
      req.end();
    });
    sockets.push(socket);
    let closedByServer = false;
    socket.on('close', () => (closedByServer = true));

    // The idle time is the condition under test (the server's own socket timer, which no fake clock drives).
    await new Promise((resolve) => setTimeout(resolve, CLIENT_IDLE_MS));
    const again = await new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
      const req = request(`${runner.url}/_health`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end();
    });

    // Node's default (5 s) closes it before the client would reuse it: that race is the ECONNRESET.
    expect(again).toEqual({ status: 200, reused: true });
    expect(closedByServer).toBe(false);
  });
});
