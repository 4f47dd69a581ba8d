// Profiles: how a virtual service speaks (application), carries (network), encrypts (SSL), measures (analytics).
import { Type, type Static } from '@sinclair/typebox';
import { Obj, Enum, Int, Bool, Opt, base } from '../schema.js';

export const ApplicationProfile = Obj({
  ...base,
  type: Enum(['APPLICATION_PROFILE_TYPE_L4', 'APPLICATION_PROFILE_TYPE_HTTP', 'APPLICATION_PROFILE_TYPE_SSL', 'APPLICATION_PROFILE_TYPE_DNS', 'APPLICATION_PROFILE_TYPE_SYSLOG', 'APPLICATION_PROFILE_TYPE_SIP']),
  http_profile: Opt(Obj({
    connection_multiplexing_enabled: Opt(Bool(true)),
    xff_enabled: Opt(Bool(true)),
    xff_alternate_name: Opt(Type.String({ default: 'X-Forwarded-For' })),
    x_forwarded_proto_enabled: Opt(Bool(false)),
    http_to_https: Opt(Bool(false)),
    websockets_enabled: Opt(Bool(true)),
    keepalive_timeout: Opt(Int(10, 100000000, { default: 30000 })),
    keepalive_header: Opt(Bool(false)),
    client_header_timeout: Opt(Int(10, 100000000, { default: 10000 })),
    client_body_timeout: Opt(Int(0, 100000000, { default: 30000 })),
    client_max_body_size: Opt(Int(0, 100000000, { default: 0 })),
    max_request_headers: Opt(Int(0, 256, { default: 256 })),
    ssl_client_certificate_mode: Opt(Enum(['SSL_CLIENT_CERTIFICATE_NONE', 'SSL_CLIENT_CERTIFICATE_REQUEST', 'SSL_CLIENT_CERTIFICATE_REQUIRE'], { default: 'SSL_CLIENT_CERTIFICATE_NONE' })),
    hsts_enabled: Opt(Bool(false)),
    secure_cookie_enabled: Opt(Bool(false)),
    enable_request_body_buffering: Opt(Bool(false)),
    server_side_redirect_to_https: Opt(Bool(false)),
    http2_profile: Opt(Type.Record(Type.String(), Type.Unknown())),
  })),
  tcp_app_profile: Opt(Obj({ proxy_protocol_enabled: Opt(Bool(false)), proxy_protocol_version: Opt(Enum(['PROXY_PROTOCOL_VERSION_1', 'PROXY_PROTOCOL_VERSION_2'])) })),
  dns_service_profile: Opt(Obj({
    num_dns_ip: Opt(Int(1, 20, { default: 1 })),
    ttl: Opt(Int(1, 86400, { default: 30 })),
    domain_names: Opt(Type.Array(Type.String())),
    error_response: Opt(Enum(['DNS_ERROR_RESPONSE_ERROR', 'DNS_ERROR_RESPONSE_NONE'], { default: 'DNS_ERROR_RESPONSE_ERROR' })),
    authoritative_domain_names: Opt(Type.Array(Type.String())),
  })),
  preserve_client_ip: Opt(Bool(false)),
  preserve_client_port: Opt(Bool(false)),
});
export type ApplicationProfile = Static<typeof ApplicationProfile>;

const Loose = Type.Record(Type.String(), Type.Unknown());
export const NetworkProfile = Obj({
  ...base,
  profile: Obj({
    type: Enum(['PROTOCOL_TYPE_TCP_PROXY', 'PROTOCOL_TYPE_TCP_FAST_PATH', 'PROTOCOL_TYPE_UDP_FAST_PATH', 'PROTOCOL_TYPE_UDP_PROXY', 'PROTOCOL_TYPE_SCTP_PROXY', 'PROTOCOL_TYPE_SCTP_FAST_PATH'], { default: 'PROTOCOL_TYPE_TCP_PROXY' }),
    tcp_proxy_profile: Opt(Obj({
      automatic: Opt(Bool(true)),
      idle_connection_timeout: Opt(Int(0, 14400, { default: 600 })),
      nagles_algorithm: Opt(Bool(false)),
      receive_window: Opt(Int(2, 65536, { default: 64 })),
      time_wait_delay: Opt(Int(0, 100000, { default: 2000 })),
    })),
    tcp_fast_path_profile: Opt(Obj({ session_idle_timeout: Opt(Int(5, 14400, { default: 300 })), enable_syn_protection: Opt(Bool(false)) })),
    udp_fast_path_profile: Opt(Obj({ session_idle_timeout: Opt(Int(2, 3600, { default: 10 })), per_pkt_loadbalance: Opt(Bool(false)), snat: Opt(Bool(true)) })),
    udp_proxy_profile: Opt(Obj({ session_idle_timeout: Opt(Int(2, 3600, { default: 10 })) })),
    sctp_proxy_profile: Opt(Loose),
    sctp_fast_path_profile: Opt(Loose),
  }),
  connection_mirror: Opt(Bool(false)),
});
export type NetworkProfile = Static<typeof NetworkProfile>;

export const SSLProfile = Obj({
  ...base,
  type: Opt(Enum(['SSL_PROFILE_TYPE_APPLICATION', 'SSL_PROFILE_TYPE_SYSTEM'], { default: 'SSL_PROFILE_TYPE_APPLICATION' })),
  accepted_versions: Opt(Type.Array(Obj({ type: Enum(['SSL_VERSION_SSLV3', 'SSL_VERSION_TLS1', 'SSL_VERSION_TLS1_1', 'SSL_VERSION_TLS1_2', 'SSL_VERSION_TLS1_3']) }))),
  accepted_ciphers: Opt(Type.String()),
  cipher_enums: Opt(Type.Array(Type.String())),
  ciphersuites: Opt(Type.String()),
  prefer_client_cipher_ordering: Opt(Bool(false)),
  send_close_notify: Opt(Bool(true)),
  enable_ssl_session_reuse: Opt(Bool(true)),
  ssl_session_timeout: Opt(Int(0, 604800, { default: 86400 })),
  is_federated: Opt(Bool(false)),
});
export type SSLProfile = Static<typeof SSLProfile>;

export const AnalyticsProfile = Obj({
  ...base,
  apdex_response_threshold: Opt(Int(1, 30000, { default: 500 })),
  client_log_config: Opt(Loose),
  enable_advanced_analytics: Opt(Bool(true)),
});
export type AnalyticsProfile = Static<typeof AnalyticsProfile>;
