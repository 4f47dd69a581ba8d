// Holds a new TLS connection until its ClientHello record is complete, then hands it to the
// listener with the SNI name and key-type preference (the bytes are put back for OpenSSL).
import type { Socket } from 'node:net';
import { helloRecordLength, parseClientHello, type HelloFacts } from './client-hello.js';

const MAX_RECORD = 5 + 16_384;

export interface TlsStarter {
  readonly routes: { limits: { headerTimeoutMs: number } };
  startTls(raw: Socket, hello: HelloFacts | undefined): void;
}

export class HelloReader {
  private buf: Buffer | undefined;

  constructor(
    private readonly raw: Socket,
    private readonly listener: TlsStarter,
  ) {
    raw.on('data', this.onData);
    raw.on('timeout', this.onTimeout);
    raw.setTimeout(listener.routes.limits.headerTimeoutMs);
  }

  private onData = (chunk: Buffer): void => {
    const buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    const need = helloRecordLength(buf);
    if (need > 0 && buf.length < need && buf.length < MAX_RECORD) {
      this.buf = buf;
      return;
    }
    this.buf = undefined;
    const raw = this.raw;
    raw.off('data', this.onData);
    raw.off('timeout', this.onTimeout);
    raw.setTimeout(0);
    raw.pause();
    raw.unshift(buf);
    this.listener.startTls(raw, need > 0 ? parseClientHello(buf) : undefined);
  };

  private onTimeout = (): void => {
    this.raw.destroy();
  };
}
