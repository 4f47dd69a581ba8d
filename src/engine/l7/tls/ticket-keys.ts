// Session-ticket keys of one secure context, with renewal on every resumption.
//
// Why: Node's built-in ticket callback accepts a ticket without asking OpenSSL to renew it, so a
// resumed TLS 1.3 handshake gets no new ticket. TLS 1.3 clients use a ticket once (OpenSSL,
// wrk, browsers), so every other connection fell back to a full handshake (measured: 50%
// resumption with wrk, for tls.Server too). Node's JS ticket-key callback (the SecureContext's
// `onticketkeycallback`, enabled by `enableTicketKeyCallback()`) may answer 2 = "valid, renew":
// OpenSSL then sends a fresh ticket on each resumed handshake and resumption stays at 100%.
// Keys rotate every ROTATE_MS; tickets of the previous key are still accepted (and renewed).
import { randomBytes, randomFillSync } from 'node:crypto';
import type { SecureContext } from 'node:tls';

const ROTATE_MS = 6 * 3600_000;
/** IVs drawn from the CSPRNG this many at a time (one randomFillSync per batch, not per ticket). */
const IV_BATCH = 256;
/** OpenSSL ticket callback results. */
const REJECT = 0;
const ENCRYPT = 1;
const RENEW = 2;

interface Key {
  name: Buffer;
  hmac: Buffer;
  aes: Buffer;
  /** What the callback returns for it, allocated once: [result, hmac, aes(, name, iv)]. */
  enc: [number, Buffer, Buffer, Buffer, Buffer];
  renew: [number, Buffer, Buffer];
}

/** The native handle's hooks (not in @types/node). */
interface NativeContext {
  onticketkeycallback?: (name: Buffer, iv: Buffer, enc: boolean) => unknown[];
  enableTicketKeyCallback?: () => void;
}

export class TicketKeys {
  private current = newKey();
  private previous: Key | undefined;
  private rotateAt = Date.now() + ROTATE_MS;
  private readonly iv = Buffer.alloc(16);
  private readonly ivPool = Buffer.alloc(16 * IV_BATCH);
  private ivNext = this.ivPool.length;
  private readonly reject: [number, Buffer, Buffer] = [REJECT, this.current.hmac, this.current.aes];

  constructor() {
    this.current.enc[4] = this.iv;
  }

  /** Installs the callback on `ctx`; false when this Node has no such hook (built-in tickets stay). */
  install(ctx: SecureContext): boolean {
    const native = (ctx as unknown as { context?: NativeContext }).context;
    if (!native || typeof native.enableTicketKeyCallback !== 'function') return false;
    native.onticketkeycallback = this.callback;
    native.enableTicketKeyCallback();
    return true;
  }

  private callback = (name: Buffer, _iv: Buffer, enc: boolean): unknown[] => {
    if (enc) {
      if (Date.now() >= this.rotateAt) this.rotate();
      // The IV buffer is copied by the native side before the next call.
      if (this.ivNext === this.ivPool.length) {
        randomFillSync(this.ivPool);
        this.ivNext = 0;
      }
      this.ivPool.copy(this.iv, 0, this.ivNext, this.ivNext + 16);
      this.ivNext += 16;
      return this.current.enc;
    }
    if (this.current.name.equals(name)) return this.current.renew;
    if (this.previous?.name.equals(name)) return this.previous.renew;
    return this.reject;
  };

  private rotate(): void {
    this.previous = this.current;
    this.current = newKey();
    this.current.enc[4] = this.iv;
    this.rotateAt = Date.now() + ROTATE_MS;
  }
}

function newKey(): Key {
  const b = randomBytes(48);
  const name = b.subarray(0, 16);
  const hmac = b.subarray(16, 32);
  const aes = b.subarray(32, 48);
  return { name, hmac, aes, enc: [ENCRYPT, hmac, aes, name, Buffer.alloc(16)], renew: [RENEW, hmac, aes] };
}
