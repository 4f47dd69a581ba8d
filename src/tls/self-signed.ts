// Self-signed certificates for the demo, the quickstart and tests (selfsigned: X.509 via WebCrypto).
import selfsigned from 'selfsigned';

export interface KeyPair {
  cert: string;
  key: string;
}

/** A self-signed RSA certificate for `hosts` (the first is the common name), valid for `days`. */
export async function selfSignedCert(hosts: string[], days = 365): Promise<KeyPair> {
  const r = await selfsigned.generate([{ name: 'commonName', value: hosts[0] ?? 'localhost' }], {
    days,
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: hosts.map((h) => ({ type: 2, value: h })) }],
  } as any);
  return { cert: r.cert, key: r.private };
}
