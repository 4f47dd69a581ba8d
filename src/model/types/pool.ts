// Back ends: pools of servers, pool groups, health monitors, persistence profiles.
import { Type, type Static } from '@sinclair/typebox';
import { Obj, Enum, Ref, RefList, Int, Port, Bool, Opt, RO, IpAddr, IpAddrPrefix, base, cloudScoped, checksum } from '../schema.js';

export const Server = Obj({
  ip: IpAddr,
  port: Opt(Port()),
  enabled: Opt(Bool(true)),
  ratio: Opt(Int(1, 20, { default: 1 })),
  hostname: Opt(Type.String()),
  external_uuid: Opt(Type.String()),
  server_node: Opt(Type.String()),
  nw_ref: Opt(Ref('network')),
  description: Opt(Type.String()),
});

export const Pool = Obj({
  ...base, ...cloudScoped, ...checksum,
  vrf_ref: Opt(Ref('vrfcontext')),
  tier1_lr: Opt(Type.String()),
  service_metadata: Opt(Type.String({ description: 'JSON text, returned exactly as written' })),
  servers: Opt(Type.Array(Server)),
  default_server_port: Opt(Port({ default: 80 })),
  lb_algorithm: Opt(Enum(['LB_ALGORITHM_LEAST_CONNECTIONS', 'LB_ALGORITHM_ROUND_ROBIN', 'LB_ALGORITHM_CONSISTENT_HASH', 'LB_ALGORITHM_FASTEST_RESPONSE', 'LB_ALGORITHM_LEAST_LOAD', 'LB_ALGORITHM_FEWEST_SERVERS', 'LB_ALGORITHM_RANDOM', 'LB_ALGORITHM_FEWEST_TASKS', 'LB_ALGORITHM_NEAREST_SERVER', 'LB_ALGORITHM_CORE_AFFINITY', 'LB_ALGORITHM_TOPOLOGY'], { default: 'LB_ALGORITHM_LEAST_CONNECTIONS' })),
  lb_algorithm_hash: Opt(Enum(['LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS', 'LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT', 'LB_ALGORITHM_CONSISTENT_HASH_URI', 'LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER', 'LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_STRING', 'LB_ALGORITHM_CONSISTENT_HASH_CALLID'], { default: 'LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS' })),
  lb_algorithm_consistent_hash_hdr: Opt(Type.String()),
  health_monitor_refs: Opt(RefList('healthmonitor')),
  application_persistence_profile_ref: Opt(Ref('applicationpersistenceprofile')),
  ssl_profile_ref: Opt(Ref('sslprofile')),
  ssl_key_and_certificate_ref: Opt(Ref('sslkeyandcertificate')),
  pki_profile_ref: Opt(Ref('pkiprofile')),
  sni_enabled: Opt(Bool(true)),
  host_check_enabled: Opt(Bool(false)),
  domain_name: Opt(Type.Array(Type.String())),
  enable_http2: Opt(Bool(false)),
  graceful_disable_timeout: Opt(Int(-1, 7200, { default: 1 })),
  // ms a server may stay silent in a request-response exchange; 0 = 60 minutes (Avi).
  server_timeout: Opt(Int(0, 21600000, { default: 0 })),
  placement_networks: Opt(Type.Array(Obj({ network_ref: Ref('network'), subnet: IpAddrPrefix }))),
  inline_health_monitor: Opt(Bool(true)),
  use_service_port: Opt(Bool(false)),
  enabled: Opt(Bool(true)),
  server_count: RO(Type.Integer()),
});
export type Pool = Static<typeof Pool>;

export const PoolGroup = Obj({
  ...base, ...cloudScoped, ...checksum,
  members: Opt(Type.Array(Obj({
    pool_ref: Ref('pool'),
    ratio: Opt(Int(0, 1000, { default: 1 })),
    priority_label: Opt(Type.String()),
    deployment_state: Opt(Enum(['EVALUATION_IN_PROGRESS', 'IN_SERVICE', 'OUT_OF_SERVICE', 'EVALUATION_FAILED'])),
  }))),
  implicit_priority_labels: Opt(Bool(false)),
  min_servers: Opt(Int(0, 65535)),
  fail_action: Opt(Type.Record(Type.String(), Type.Unknown())),
});
export type PoolGroup = Static<typeof PoolGroup>;

const HttpMonitor = Obj({
  http_request: Opt(Type.String({ default: 'GET / HTTP/1.0' })),
  http_response_code: Opt(Type.Array(Enum(['HTTP_ANY', 'HTTP_1XX', 'HTTP_2XX', 'HTTP_3XX', 'HTTP_4XX', 'HTTP_5XX']))),
  http_response: Opt(Type.String()),
  exact_http_request: Opt(Bool(false)),
  http_request_body: Opt(Type.String()),
  ssl_attributes: Opt(Type.Record(Type.String(), Type.Unknown())),
});
export const HealthMonitor = Obj({
  ...base,
  type: Enum(['HEALTH_MONITOR_PING', 'HEALTH_MONITOR_TCP', 'HEALTH_MONITOR_HTTP', 'HEALTH_MONITOR_HTTPS', 'HEALTH_MONITOR_EXTERNAL', 'HEALTH_MONITOR_UDP', 'HEALTH_MONITOR_DNS', 'HEALTH_MONITOR_GSLB', 'HEALTH_MONITOR_SIP', 'HEALTH_MONITOR_RADIUS', 'HEALTH_MONITOR_SMTP', 'HEALTH_MONITOR_SCTP']),
  send_interval: Opt(Int(1, 3600, { default: 10 })),
  receive_timeout: Opt(Int(1, 2400, { default: 4 })),
  successful_checks: Opt(Int(1, 50, { default: 2 })),
  failed_checks: Opt(Int(1, 50, { default: 2 })),
  monitor_port: Opt(Port()),
  is_federated: Opt(Bool(false)),
  http_monitor: Opt(HttpMonitor),
  https_monitor: Opt(HttpMonitor),
  tcp_monitor: Opt(Obj({ tcp_request: Opt(Type.String()), tcp_response: Opt(Type.String()), tcp_half_open: Opt(Bool(false)), maintenance_response: Opt(Type.String()) })),
  udp_monitor: Opt(Obj({ udp_request: Opt(Type.String()), udp_response: Opt(Type.String()), maintenance_response: Opt(Type.String()) })),
  dns_monitor: Opt(Obj({
    query_name: Type.String({ minLength: 1 }),
    qtype: Opt(Enum(['DNS_QUERY_TYPE', 'DNS_ANY_TYPE', 'DNS_ANY_THING'], { default: 'DNS_QUERY_TYPE' })),
    rcode: Opt(Enum(['RCODE_NO_ERROR', 'RCODE_ANYTHING'], { default: 'RCODE_NO_ERROR' })),
    response_string: Opt(Type.String()),
    record_type: Opt(Enum(['DNS_RECORD_A', 'DNS_RECORD_AAAA', 'DNS_RECORD_ANY'], { default: 'DNS_RECORD_A' })),
  })),
  authentication: Opt(Obj({ username: Opt(Type.String()), password: Opt(Type.String({ writeOnly: true })) })),
});
export type HealthMonitor = Static<typeof HealthMonitor>;

export const ApplicationPersistenceProfile = Obj({
  ...base,
  persistence_type: Enum(['PERSISTENCE_TYPE_CLIENT_IP_ADDRESS', 'PERSISTENCE_TYPE_HTTP_COOKIE', 'PERSISTENCE_TYPE_TLS', 'PERSISTENCE_TYPE_CLIENT_IPV6_ADDRESS', 'PERSISTENCE_TYPE_CUSTOM_HTTP_HEADER', 'PERSISTENCE_TYPE_APP_COOKIE', 'PERSISTENCE_TYPE_GSLB_SITE'], { default: 'PERSISTENCE_TYPE_CLIENT_IP_ADDRESS' }),
  server_hm_down_recovery: Opt(Enum(['HM_DOWN_PICK_NEW_SERVER', 'HM_DOWN_ABORT_CONNECTION', 'HM_DOWN_CONTINUE_PERSISTENT_SERVER'], { default: 'HM_DOWN_PICK_NEW_SERVER' })),
  ip_persistence_profile: Opt(Obj({ ip_persistent_timeout: Opt(Int(1, 720, { default: 5 })), ip_mask: Opt(Int(0, 128)) })),
  http_cookie_persistence_profile: Opt(Obj({ cookie_name: Opt(Type.String()), timeout: Opt(Int(0, 14400)), always_send_cookie: Opt(Bool(false)), encryption_key: Opt(Type.String({ writeOnly: true })), is_persistent_cookie: Opt(Bool(false)) })),
  hdr_persistence_profile: Opt(Obj({ prst_hdr_name: Opt(Type.String()) })),
  app_cookie_persistence_profile: Opt(Obj({ prst_hdr_name: Type.String(), timeout: Opt(Int(1, 720, { default: 20 })) })),
  is_federated: Opt(Bool(false)),
});
export type ApplicationPersistenceProfile = Static<typeof ApplicationPersistenceProfile>;
