// Infrastructure objects: where things live (cloud, tenant, VRF, networks, IPAM/DNS, SE groups, SEs).
import { Type, type Static } from '@sinclair/typebox';
import { Obj, Enum, Ref, RefList, Int, Bool, Opt, RO, IpAddr, IpAddrPrefix, IpAddrRange, KeyValue, base, cloudScoped } from '../schema.js';

export const Cloud = Obj({
  ...base,
  vtype: Enum(['CLOUD_NONE', 'CLOUD_VCENTER', 'CLOUD_NSXT', 'CLOUD_AWS', 'CLOUD_AZURE', 'CLOUD_GCP', 'CLOUD_OPENSTACK', 'CLOUD_LINUXSERVER'], { default: 'CLOUD_NONE' }),
  ipam_provider_ref: Opt(Ref('ipamdnsproviderprofile')),
  dns_provider_ref: Opt(Ref('ipamdnsproviderprofile')),
  dhcp_enabled: Opt(Bool(false)),
  mtu: Opt(Int(68, 9000, { default: 1500 })),
  license_type: Opt(Type.String()),
  license_tier: Opt(Type.String()),
  prefer_static_routes: Opt(Bool(false)),
  enable_vip_static_routes: Opt(Bool(false)),
  state_based_dns_registration: Opt(Bool(true)),
  vcenter_configuration: Opt(Type.Record(Type.String(), Type.Unknown())),
  nsxt_configuration: Opt(Type.Record(Type.String(), Type.Unknown())),
}, { description: 'Cloud: a place service engines run in, with its IPAM and DNS profiles' });
export type Cloud = Static<typeof Cloud>;

export const Tenant = Obj({
  ...base,
  local: Opt(Bool(true)),
  config_settings: Opt(Obj({
    tenant_vrf: Opt(Bool(false)),
    se_in_provider_context: Opt(Bool(true)),
    tenant_access_to_provider_se: Opt(Bool(true)),
  })),
});
export type Tenant = Static<typeof Tenant>;

export const StaticRoute = Obj({
  route_id: Type.String({ minLength: 1 }),
  prefix: IpAddrPrefix,
  next_hop: IpAddr,
  labels: Opt(Type.Array(KeyValue)),
  if_name: Opt(Type.String()),
  disable_gateway_monitor: Opt(Bool()),
});
export const VrfContext = Obj({
  ...base, ...cloudScoped,
  system_default: RO(Type.Boolean()),
  static_routes: Opt(Type.Array(StaticRoute)),
  bgp_profile: Opt(Type.Record(Type.String(), Type.Unknown())),
  gateway_mon: Opt(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
  attrs: Opt(Type.Array(KeyValue)),
});
export type VrfContext = Static<typeof VrfContext>;

export const StaticIpRange = Obj({
  range: IpAddrRange,
  type: Opt(Enum(['STATIC_IPS_FOR_VIP', 'STATIC_IPS_FOR_SE', 'STATIC_IPS_FOR_VIP_AND_SE'], { default: 'STATIC_IPS_FOR_VIP_AND_SE' })),
});
export const Subnet = Obj({
  prefix: IpAddrPrefix,
  static_ip_ranges: Opt(Type.Array(StaticIpRange)),
});
export const Network = Obj({
  ...base, ...cloudScoped,
  vrf_context_ref: Opt(Ref('vrfcontext', "defaults to the cloud's VRF global")),
  configured_subnets: Opt(Type.Array(Subnet)),
  dhcp_enabled: Opt(Bool(true)),
  exclude_discovered_subnets: Opt(Bool(false)),
  ip6_autocfg_enabled: Opt(Bool(true)),
  synced_from_se: Opt(Bool(false)),
  attrs: Opt(Type.Array(KeyValue)),
});
export type Network = Static<typeof Network>;

export const IpamUsableNetwork = Obj({ nw_ref: Ref('network'), labels: Opt(Type.Array(KeyValue)) });
export const DnsServiceDomain = Obj({
  domain_name: Type.String({ minLength: 1 }),
  pass_through: Opt(Bool(true)),
  num_dns_ip: Opt(Int(1, 100)),
  record_ttl: Opt(Int(1, 604800)),
});
export const IpamDnsProviderProfile = Obj({
  ...base,
  type: Enum(['IPAMDNS_TYPE_INTERNAL', 'IPAMDNS_TYPE_INTERNAL_DNS', 'IPAMDNS_TYPE_INFOBLOX', 'IPAMDNS_TYPE_INFOBLOX_DNS', 'IPAMDNS_TYPE_AWS', 'IPAMDNS_TYPE_AWS_DNS', 'IPAMDNS_TYPE_AZURE', 'IPAMDNS_TYPE_AZURE_DNS', 'IPAMDNS_TYPE_GCP', 'IPAMDNS_TYPE_OPENSTACK', 'IPAMDNS_TYPE_OCI', 'IPAMDNS_TYPE_TENCENT', 'IPAMDNS_TYPE_CUSTOM', 'IPAMDNS_TYPE_CUSTOM_DNS']),
  internal_profile: Opt(Obj({
    usable_networks: Opt(Type.Array(IpamUsableNetwork)),
    dns_service_domain: Opt(Type.Array(DnsServiceDomain)),
    ttl: Opt(Int(1, 604800, { default: 30 })),
    dns_virtualservice_ref: Opt(Ref('virtualservice')),
  })),
  allocate_ip_in_vrf: Opt(Bool(false)),
});
export type IpamDnsProviderProfile = Static<typeof IpamDnsProviderProfile>;

export const ServiceEngineGroup = Obj({
  ...base, ...cloudScoped,
  labels: Opt(Type.Array(KeyValue)),
  mgmt_network_ref: Opt(Ref('network')),
  ha_mode: Opt(Enum(['HA_MODE_SHARED', 'HA_MODE_SHARED_PAIR', 'HA_MODE_LEGACY_ACTIVE_STANDBY'], { default: 'HA_MODE_SHARED' })),
  algo: Opt(Enum(['PLACEMENT_ALGO_PACKED', 'PLACEMENT_ALGO_DISTRIBUTED'], { default: 'PLACEMENT_ALGO_PACKED' })),
  max_se: Opt(Int(1, 1000, { default: 10 })),
  min_se: Opt(Int(0, 1000, { default: 1 })),
  max_vs_per_se: Opt(Int(1, 1000, { default: 10 })),
  buffer_se: Opt(Int(0, 100, { default: 1 })),
  vcpus_per_se: Opt(Int(1, 64, { default: 1 })),
  memory_per_se: Opt(Int(1024, 1048576, { default: 2048 })),
  disk_per_se: Opt(Int(1, 10000, { default: 15 })),
  min_scaleout_per_vs: Opt(Int(1, 64, { default: 1 })),
  max_scaleout_per_vs: Opt(Int(1, 64, { default: 4 })),
  se_name_prefix: Opt(Type.String({ default: 'Avi' })),
  active_standby: Opt(Bool(false)),
  realtime_se_metrics: Opt(Obj({ enabled: Opt(Bool(false)), duration: Opt(Int(0, 1440, { default: 30 })) })),
});
export type ServiceEngineGroup = Static<typeof ServiceEngineGroup>;

const VnicNetwork = Obj({ ip: IpAddrPrefix, mode: Opt(Enum(['DHCP', 'STATIC', 'VIP', 'DOCKER_HOST'])) });
export const ServiceEngine = Obj({
  ...base, ...cloudScoped,
  se_group_ref: Opt(Ref('serviceenginegroup')),
  enable_state: Opt(Enum(['SE_STATE_ENABLED', 'SE_STATE_DISABLED_FOR_PLACEMENT', 'SE_STATE_DISABLED', 'SE_STATE_DISABLED_FORCE'], { default: 'SE_STATE_ENABLED' })),
  mgmt_vnic: Opt(Obj({ vnic_networks: Opt(Type.Array(VnicNetwork)), if_name: Opt(Type.String()) })),
  data_vnics: Opt(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
  resources: Opt(Type.Record(Type.String(), Type.Unknown())),
  hypervisor: Opt(Type.String()),
  container_mode: Opt(Bool(true)),
  controller_ip: Opt(Type.String()),
  hostname: Opt(Type.String()),
  version: Opt(Type.String()),
  vip_mode: Opt(Enum(['loopback', 'l2'])),
  interface: Opt(Type.String()),
  se_secret_hash: Opt(Type.String({ writeOnly: true, 'x-internal': true, description: 'hash of the SE bearer secret (engines module)' })),
  // Reported by the SE (written by the engines module through the host; RO on the REST API).
  oper_status: RO(Type.Record(Type.String(), Type.Unknown())),
  last_heartbeat: RO(Type.String()),
  applied_version: RO(Type.Integer()),
  se_connected: RO(Type.Boolean()),
  // Written by the placement module (src/controller/placement): the VSes this SE serves.
  // Plain UUIDs, not refs, so a placed VS can still be deleted.
  placed_vs_uuids: RO(Type.Array(Type.String())),
  // HA_MODE_LEGACY_ACTIVE_STANDBY: those of placed_vs_uuids this SE holds as standby (configured, VIP not bound).
  standby_vs_uuids: RO(Type.Array(Type.String())),
});
export type ServiceEngine = Static<typeof ServiceEngine>;

/** A join token of an SE group (docs/engine-protocol.md): stored hashed, shown once by the engines module. */
export const SeJoinToken = Obj({
  ...base,
  se_group_ref: Ref('serviceenginegroup'),
  token_hash: Opt(Type.String({ writeOnly: true, 'x-internal': true, minLength: 1 })),
  expires_at: Opt(Type.String()),
  max_uses: Opt(Int(0, 1_000_000)),
  uses: Opt(Int(0, Number.MAX_SAFE_INTEGER)),
});
export type SeJoinToken = Static<typeof SeJoinToken>;
