// Holds a new TLS connection until its ClientHello record is complete, then hands it to the
// listener with the SNI name and key-type preference (the bytes are put back for OpenSSL).
// One shared 'data' handler and a symbol on the socket instead of an object and closures per
// connection; the time limit is the listener's sweep (no timer per connection).
import type { Socket } from 'node:net';
import { helloRecordLength, parseClientHello, type HelloFacts } from './client-hello.js';

const MAX_RECORD = 5 + 16_384;
const STARTER = Symbol('tls starter');
const PARTIAL = Symbol('partial hello');

export interface TlsStarter {
  startTls(raw: Socket, hello: HelloFacts | undefined): void;
}

type Reading = Socket & { [STARTER]?: TlsStarter; [PARTIAL]?: Buffer };

/** Reads the ClientHello from `raw`, then calls `starter.startTls`. */
export function readHello(raw: Socket, starter: TlsStarter): void {
  (raw as Reading)[STARTER] = starter;
  raw.on('data', onHelloData);
}

function onHelloData(this: Reading, chunk: Buffer): void {
  const prev = this[PARTIAL];
  const buf = prev === undefined ? chunk : Buffer.concat([prev, chunk]);
  const need = helloRecordLength(buf);
  if (need > 0 && buf.length < need && buf.length < MAX_RECORD) {
    this[PARTIAL] = buf;
    return;
  }
  if (prev !== undefined) this[PARTIAL] = undefined;
  this.off('data', onHelloData);
  this.pause();
  this.unshift(buf);
  this[STARTER]!.startTls(this, need > 0 ? parseClientHello(buf) : undefined);
}
