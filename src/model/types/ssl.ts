// TLS material: certificates with their keys (the key is write-only), PKI profiles.
import { Type, type Static } from '@sinclair/typebox';
import { Obj, Enum, Ref, Bool, Opt, RO, base } from '../schema.js';

const Dn = Type.Record(Type.String(), Type.String());
export const SSLCertificate = Obj({
  certificate: Opt(Type.String({ description: 'PEM, returned exactly as written' })),
  certificate_signing_request: Opt(Type.String()),
  // Parsed from the PEM on write (RO).
  subject: RO(Dn),
  issuer: RO(Dn),
  not_before: RO(Type.String()),
  not_after: RO(Type.String()),
  expiry_status: RO(Type.String()),
  self_signed: RO(Type.Boolean()),
  serial_number: RO(Type.String()),
  fingerprint: RO(Type.String()),
  public_key: RO(Type.Record(Type.String(), Type.Unknown())),
  subject_alt_names: RO(Type.Array(Type.String())),
  chain_verified: RO(Type.Boolean()),
  text: RO(Type.String()),
  version: RO(Type.String()),
  days_until_expire: RO(Type.Integer()),
});

export const SSLKeyAndCertificate = Obj({
  ...base,
  type: Opt(Enum(['SSL_CERTIFICATE_TYPE_VIRTUALSERVICE', 'SSL_CERTIFICATE_TYPE_SYSTEM', 'SSL_CERTIFICATE_TYPE_CA'], { default: 'SSL_CERTIFICATE_TYPE_VIRTUALSERVICE' })),
  certificate: SSLCertificate,
  key: Opt(Type.String({ writeOnly: true, description: 'PEM private key; write-only' })),
  key_passphrase: Opt(Type.String({ writeOnly: true })),
  ca_certs: Opt(Type.Array(Obj({ ca_ref: Opt(Ref('sslkeyandcertificate')), name: Opt(Type.String()) }))),
  format: Opt(Enum(['SSL_PEM', 'SSL_PKCS12'], { default: 'SSL_PEM' })),
  status: Opt(Enum(['SSL_CERTIFICATE_FINISHED', 'SSL_CERTIFICATE_PENDING'], { default: 'SSL_CERTIFICATE_FINISHED' })),
  certificate_base64: Opt(Bool(false)),
  key_base64: Opt(Bool(false)),
  enable_ocsp_stapling: Opt(Bool(false)),
  key_params: RO(Type.Record(Type.String(), Type.Unknown())),
});
export type SSLKeyAndCertificate = Static<typeof SSLKeyAndCertificate>;

export const PKIProfile = Obj({
  ...base,
  ca_certs: Opt(Type.Array(Obj({ certificate: Type.String() }))),
  crl_check: Opt(Bool(true)),
  ignore_peer_chain: Opt(Bool(false)),
  validate_only_leaf_crl: Opt(Bool(true)),
});
export type PKIProfile = Static<typeof PKIProfile>;
