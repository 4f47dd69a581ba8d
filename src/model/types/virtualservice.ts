// Virtual services and their VIPs.
import { Type, type Static } from '@sinclair/typebox';
import { Obj, Enum, Ref, Int, Bool, Opt, RO, IpAddr, IpAddrPrefix, base, cloudScoped, checksum } from '../schema.js';
import { MatchTarget } from './policy.js';

export const Service = Obj({
  port: Int(0, 65535),
  port_range_end: Opt(Int(0, 65535)),
  enable_ssl: Opt(Bool(false)),
  enable_http2: Opt(Bool(false)),
  override_network_profile_ref: Opt(Ref('networkprofile')),
  override_application_profile_ref: Opt(Ref('applicationprofile')),
  horizon_internal_ports: Opt(Bool(false)),
  is_active_ftp_data_port: Opt(Bool(false)),
});

export const Vip = Obj({
  vip_id: Type.String({ minLength: 1, default: '0' }),
  enabled: Opt(Bool(true)),
  auto_allocate_ip: Opt(Bool(false)),
  auto_allocate_ip_type: Opt(Enum(['V4_ONLY', 'V6_ONLY', 'V4_V6'], { default: 'V4_ONLY' })),
  auto_allocate_floating_ip: Opt(Bool(false)),
  ip_address: Opt(IpAddr),
  ip6_address: Opt(IpAddr),
  floating_ip: Opt(IpAddr),
  ipam_network_subnet: Opt(Obj({
    network_ref: Opt(Ref('network')),
    subnet: Opt(IpAddrPrefix),
    subnet6: Opt(IpAddrPrefix),
    subnet_uuid: Opt(Type.String()),
    subnet6_uuid: Opt(Type.String()),
  })),
  placement_networks: Opt(Type.Array(Obj({ network_ref: Opt(Ref('network')), subnet: Opt(IpAddrPrefix), subnet6: Opt(IpAddrPrefix) }))),
  subnet_uuid: Opt(Type.String()),
  prefix_length: RO(Type.Integer()),
  avi_allocated_vip: RO(Type.Boolean()),
  avi_allocated_fip: RO(Type.Boolean()),
  discovered_networks: RO(Type.Array(Type.Unknown())),
});

export const DnsInfo = Obj({
  fqdn: Type.String({ minLength: 1, maxLength: 253 }),
  ttl: Opt(Int(0, 2147483647)),
  type: Opt(Enum(['DNS_RECORD_A', 'DNS_RECORD_AAAA', 'DNS_RECORD_CNAME', 'DNS_RECORD_SRV', 'DNS_RECORD_TXT'], { default: 'DNS_RECORD_A' })),
  algorithm: Opt(Enum(['DNS_RECORD_RESPONSE_CONSISTENT_HASH', 'DNS_RECORD_RESPONSE_ROUND_ROBIN'], { default: 'DNS_RECORD_RESPONSE_CONSISTENT_HASH' })),
  num_records_in_response: Opt(Int(0, 20)),
});

export const VsVip = Obj({
  ...base, ...cloudScoped,
  vrf_context_ref: Opt(Ref('vrfcontext', "defaults to the cloud's VRF global")),
  east_west_placement: Opt(Bool(false)),
  tier1_lr: Opt(Type.String()),
  bgp_peer_labels: Opt(Type.Array(Type.String())),
  vsvip_cloud_config_cksum: Opt(Type.String()),
  dns_info: Opt(Type.Array(DnsInfo)),
  vip: Opt(Type.Array(Vip)),
  use_standard_alb: Opt(Bool()),
});
export type VsVip = Static<typeof VsVip>;


export const VHMatch = Obj({
  host: Type.String({ minLength: 1 }),
  path: Opt(Type.Array(Type.Unknown())),
  rules: Opt(Type.Array(Obj({ name: Type.String({ minLength: 1 }), matches: MatchTarget }))),
});

export const VirtualService = Obj({
  ...base, ...cloudScoped, ...checksum,
  type: Opt(Enum(['VS_TYPE_NORMAL', 'VS_TYPE_VH_PARENT', 'VS_TYPE_VH_CHILD'], { default: 'VS_TYPE_NORMAL' })),
  vh_type: Opt(Enum(['VS_TYPE_VH_SNI', 'VS_TYPE_VH_ENHANCED'], { default: 'VS_TYPE_VH_SNI' })),
  vh_parent_vs_ref: Opt(Ref('virtualservice')),
  vh_domain_name: Opt(Type.Array(Type.String({ minLength: 1 }))),
  vh_matches: Opt(Type.Array(VHMatch)),
  vh_child_vs_uuid: RO(Type.Array(Type.String())),
  vsvip_ref: Opt(Ref('vsvip')),
  services: Opt(Type.Array(Service)),
  application_profile_ref: Opt(Ref('applicationprofile')),
  network_profile_ref: Opt(Ref('networkprofile')),
  se_group_ref: Opt(Ref('serviceenginegroup')),
  vrf_context_ref: Opt(Ref('vrfcontext')),
  pool_ref: Opt(Ref('pool')),
  pool_group_ref: Opt(Ref('poolgroup')),
  http_policies: Opt(Type.Array(Obj({ index: Int(0, 1_000_000), http_policy_set_ref: Ref('httppolicyset') }))),
  vs_datascripts: Opt(Type.Array(Obj({ index: Int(0, 1_000_000), vs_datascript_set_ref: Ref('vsdatascriptset') }))),
  l4_policies: Opt(Type.Array(Obj({ index: Int(0, 1_000_000), l4_policy_set_ref: Ref('l4policyset') }))),
  ssl_key_and_certificate_refs: Opt(Type.Array(Ref('sslkeyandcertificate'), { maxItems: 2 })),
  ssl_profile_ref: Opt(Ref('sslprofile')),
  analytics_profile_ref: Opt(Ref('analyticsprofile')),
  enabled: Opt(Bool(true)),
  traffic_enabled: Opt(Bool(true)),
  east_west_placement: Opt(Bool(false)),
  ign_pool_net_reach: Opt(Bool(false)),
  enable_rhi: Opt(Bool(false)),
  revoke_vip_route: Opt(Bool(false)),
  remove_listening_port_on_vs_down: Opt(Bool(false)),
  min_pools_up: Opt(Int(0, 1_000_000, { description: 'the VS is up only while at least this many of the pools it can send to (default pool or group, policy switching actions) have a server up' })),
  service_metadata: Opt(Type.String({ description: 'JSON text, returned exactly as written' })),
  service_pool_select: Opt(Type.Array(Obj({
    service_port: Int(0, 65535),
    service_port_range_end: Opt(Int(0, 65535)),
    service_protocol: Opt(Enum(['PROTOCOL_TYPE_TCP_PROXY', 'PROTOCOL_TYPE_TCP_FAST_PATH', 'PROTOCOL_TYPE_UDP_FAST_PATH', 'PROTOCOL_TYPE_UDP_PROXY', 'PROTOCOL_TYPE_SCTP_PROXY', 'PROTOCOL_TYPE_SCTP_FAST_PATH'])),
    service_pool_ref: Opt(Ref('pool')),
    service_pool_group_ref: Opt(Ref('poolgroup')),
  }))),
  vsvip_cloud_config_cksum: Opt(Type.String()),
  weight: Opt(Int(1, 128, { default: 1 })),
  flow_dist: Opt(Enum(['LOAD_AWARE', 'CONSISTENT_HASH_SOURCE_IP_ADDRESS', 'CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT'], { default: 'LOAD_AWARE' })),
  analytics_policy: Opt(Type.Record(Type.String(), Type.Unknown())),
  waf_policy_ref: Opt(Type.String()),
  error_page_profile_ref: Opt(Type.String()),
  security_policy_ref: Opt(Type.String()),
  sso_policy_ref: Opt(Type.String()),
  icap_request_profile_refs: Opt(Type.Array(Type.String())),
  cloud_type: RO(Type.String()),
});
export type VirtualService = Static<typeof VirtualService>;
