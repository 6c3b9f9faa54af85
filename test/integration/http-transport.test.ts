import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { nodeTransport } from '../../functions/core/http-transport';

/** A loopback server answering by path; it keeps what it was sent. */
function serve(answer: (request: IncomingMessage, body: Buffer, response: ServerResponse) => void) {
  const received: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: request.method, url: request.url, headers: request.headers, body });
      answer(request, body, response);
    });
  });
  return {
    received,
    server,
    start: () =>
      new Promise<string>((resolve) => {
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const timeoutMs = 5_000;

describe('nodeTransport: what the HTTP client sends through node:http, on loopback', () => {
  const elsewhere = serve((_request, _body, response) => response.writeHead(200).end('{}'));
  const partner = serve((request, body, response) => {
    if (request.url === '/moved') {
      response.writeHead(302, { location: `${elsewhereUrl}/stolen` }).end();
    } else if (request.url === '/gzip') {
      response.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' }).end(gzipSync('{"message":"success"}'));
    } else if (request.url === '/slow') {
      setTimeout(() => response.writeHead(200).end('late'), 2_000).unref();
    } else if (request.url === '/cut') {
      response.writeHead(200, { 'content-length': '100' });
      response.write('only part');
      setImmediate(() => response.socket?.destroy());
    } else {
      response.writeHead(429, { 'x-ratelimit-reset': '1700000000', 'set-cookie': ['a=1', 'b=2'] }).end(`echo ${body.toString('utf8')}`);
    }
  });
  let elsewhereUrl = '';
  let partnerUrl = '';

  beforeAll(async () => {
    elsewhereUrl = await elsewhere.start();
    partnerUrl = await partner.start();
  });
  afterAll(async () => {
    await Promise.all([elsewhere.stop(), partner.stop()]);
  });

  it('sends the method, headers and UTF-8 body with its length, and reads any status with its headers and text', async () => {
    const answer = await nodeTransport(`${partnerUrl}/users/track`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: '{"name":"Zoë"}',
      timeoutMs,
    });

    expect(answer.status).toBe(429);
    expect(answer.headers.get('x-ratelimit-reset')).toBe('1700000000');
    expect(answer.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(answer.text).toBe('echo {"name":"Zoë"}');
    const sent = partner.received.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.headers.authorization).toBe('Bearer k');
    expect(sent.headers['content-length']).toBe(String(Buffer.byteLength('{"name":"Zoë"}')));
  });

  it('sends bytes as they are', async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x2c, 0x62, 0x0a]);
    await nodeTransport(`${partnerUrl}/bytes`, { method: 'POST', body: bytes, timeoutMs });
    expect([...partner.received.at(-1)!.body]).toEqual([...bytes]);
  });

  it('never follows a redirect: the 302 is the answer and the other host receives nothing', async () => {
    const answer = await nodeTransport(`${partnerUrl}/moved`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: '{}', timeoutMs });
    expect(answer.status).toBe(302);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('decodes a gzip answer as fetch would', async () => {
    const answer = await nodeTransport(`${partnerUrl}/gzip`, { method: 'GET', timeoutMs });
    expect(answer.text).toBe('{"message":"success"}');
  });

  it('abandons an attempt past its timeout with a TimeoutError, as fetch does', async () => {
    await expect(nodeTransport(`${partnerUrl}/slow`, { method: 'GET', timeoutMs: 100 })).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('leaves no timer behind once answered, so nothing holds the process for the timeout', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();

    await Promise.all(Array.from({ length: 5 }, () => nodeTransport(`${partnerUrl}/gzip`, { method: 'GET', timeoutMs: 60_000 })));
    await expect(nodeTransport(`${partnerUrl}/cut`, { method: 'GET', timeoutMs: 60_000 })).rejects.toThrow();

    expect(timers()).toBe(before);
  });

  it('fails an answer cut before its end rather than returning part of it', async () => {
    await expect(nodeTransport(`${partnerUrl}/cut`, { method: 'GET', timeoutMs })).rejects.toThrow();
  });

  it('refuses a URL that is not http or https', async () => {
    await expect(nodeTransport('file:///etc/passwd', { method: 'GET', timeoutMs })).rejects.toThrow(/only http and https/);
  });
});
