// Certificate import: parse the PEM (node:crypto X509Certificate) into the read-only fields Avi
// returns, and check that the private key belongs to the certificate.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { badRequest } from '../errors.js';

const DN_KEYS: Record<string, string> = { CN: 'common_name', O: 'organization', OU: 'organization_unit', L: 'locality', ST: 'state', C: 'country', emailAddress: 'email_address' };

function dn(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const k = DN_KEYS[line.slice(0, eq)];
    if (k) out[k] = line.slice(eq + 1);
  }
  out.distinguished_name = text.split('\n').filter(Boolean).join(', ');
  return out;
}

const WARN_DAYS = 30;

export interface ParsedCertificate { fields: Record<string, unknown>; x509: X509Certificate }

/** Parses the first certificate of a PEM text; 400 naming `field` when it is not one. */
export function parseCertificate(pem: string, field: string): ParsedCertificate {
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw badRequest(`${field}: Import error: not a PEM certificate (no BEGIN CERTIFICATE block)`);
  let x509: X509Certificate;
  try { x509 = new X509Certificate(pem); } catch (e) {
    throw badRequest(`${field}: Import error: the certificate cannot be parsed (${(e as Error).message})`);
  }
  const notAfter = new Date(x509.validTo);
  const days = Math.floor((notAfter.getTime() - Date.now()) / 86_400_000);
  const pk = x509.publicKey;
  const details = pk.asymmetricKeyDetails ?? {};
  const selfSigned = x509.subject === x509.issuer && safeVerify(x509, pk);
  return {
    x509,
    fields: {
      subject: dn(x509.subject),
      issuer: dn(x509.issuer),
      not_before: new Date(x509.validFrom).toISOString(),
      not_after: notAfter.toISOString(),
      days_until_expire: days,
      expiry_status: days < 0 ? 'SSL_CERTIFICATE_EXPIRED' : days < WARN_DAYS ? 'SSL_CERTIFICATE_EXPIRY_WARNING' : 'SSL_CERTIFICATE_GOOD',
      self_signed: selfSigned,
      serial_number: x509.serialNumber,
      fingerprint: `SHA1 Fingerprint=${x509.fingerprint}`,
      subject_alt_names: (x509.subjectAltName ?? '').split(', ').filter(Boolean).map((s) => s.replace(/^(DNS|IP Address|email|URI):/, '')),
      public_key: { algorithm: pk.asymmetricKeyType === 'ec' ? 'KEY_ALGORITHM_EC' : 'KEY_ALGORITHM_RSA', ...('modulusLength' in details ? { key_size: details.modulusLength } : {}), ...('namedCurve' in details ? { curve: details.namedCurve } : {}) },
      version: '3',
    },
  };
}

function safeVerify(x: X509Certificate, k: KeyObject): boolean {
  try { return x.verify(k); } catch { return false; }
}

/** Loads a PEM private key and checks it matches `x509`; 400 naming `field` otherwise. */
export function checkKey(x509: X509Certificate, keyPem: string, passphrase: string | undefined, field: string): void {
  let key: KeyObject;
  try { key = createPrivateKey(passphrase ? { key: keyPem, passphrase } : keyPem); } catch (e) {
    throw badRequest(`${field}: Import error: the private key cannot be read (${(e as Error).message.replace(/\n.*/s, '')})`);
  }
  if (!x509.checkPrivateKey(key)) throw badRequest(`${field}: the private key does not match the certificate`);
}
