// Malformed bytes after a complete request on a keep-alive connection (a client sending a body
// on DELETE without Content-Length, say): Node's default answer writes "400 Bad Request" at once,
// ahead of the response still being made for the complete request, and closes. The client then
// reads 400 for a request that was carried out. Here the 400 waits for the responses in flight on
// that connection, so answers stay in request order.
import type { Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** The answer per parser error, as fastify's default handler gives it (408, 431, else 400). */
function answer(code: string | undefined): string {
  const [status, text, why] = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'the request took too long']
    : code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
      : [400, 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify({ error: `${why}: the connection is closed after this` });
  return `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

interface Pending { inFlight: number; error?: string }

function send(socket: Socket, response: string): void {
  if (socket.writable) socket.end(response);
  else socket.destroy();
}

export function orderClientErrors(app: FastifyInstance): NonNullable<import('fastify').FastifyServerOptions['clientErrorHandler']> {
  const sockets = new WeakMap<Socket, Pending>();
  const of = (socket: Socket) => {
    let p = sockets.get(socket);
    if (!p) sockets.set(socket, (p = { inFlight: 0 }));
    return p;
  };
  // Counted on the server's own 'request' event: it fires while the parser is still in the packet,
  // before the bytes after the request can raise a client error (a fastify hook runs later).
  app.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const p = of(socket);
    p.inFlight++;
    res.once('close', () => {
      p.inFlight--;
      if (p.inFlight <= 0 && p.error !== undefined) send(socket, p.error);
    });
  });
  return (err, socket) => {
    // Timeouts and resets: nothing to answer.
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return; }
    const p = of(socket);
    const response = answer((err as NodeJS.ErrnoException).code);
    if (p.inFlight > 0) p.error = response;
    else send(socket, response);
  };
}
