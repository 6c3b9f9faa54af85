import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Keeps a connection from being reused when its answer goes out before the request's body was
 * read (a 404, a 403, a route that ignores the body): the unread rest of the body would otherwise
 * be taken for the next request on that socket, and a pooled client's next request would fail
 * (ECONNRESET). Call it as the request arrives: a request with a body (Content-Length above 0, or
 * Transfer-Encoding) says `Connection: close` until its body has been read to the end, then takes
 * it back, so a route that reads the body keeps the connection. (`req.complete` cannot tell: it is
 * still false when the handler starts, even for a GET.)
 */
export function closeUnlessBodyRead(req: IncomingMessage, res: ServerResponse): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody) return;
  res.setHeader('connection', 'close');
  req.once('end', () => {
    if (!res.headersSent) res.removeHeader('connection');
  });
}

/**
 * Reads a request body of at most `limit` bytes. A longer one answers `undefined`, once the client
 * has sent it all (up to `limit` more bytes, read and dropped): answering while it is still sending
 * and then closing would reset the connection under it, and it would see ECONNRESET instead of
 * the 413. A body longer still is left unread (the connection closes after the answer).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > 2 * limit)
        settle(() => {
          req.pause();
          resolve(undefined);
        });
    };
    const onEnd = () => settle(() => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    const onError = (error: Error) => settle(() => reject(error));
    const onClose = () => settle(() => reject(new Error('the client closed the connection before sending the whole body')));
    req.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  });
}
