// The controller side of the AKO documentation's lab, done through the REST API as a user would
// click it in the console: IPAM and DNS profiles on Default-Cloud, a VRF for the cluster, a VIP
// network with a static pool, two SE groups and the DNS virtual service.
import type { ApiClient } from '../up/api-client.js';

export const LAB = {
  /** Loopback stand-ins for the lab's 10.22.13.0/24 and its VIP pool 10.22.13.61–70. */
  networkName: 'k8s-vip-network',
  subnet: '127.22.13.0',
  mask: 24,
  rangeBegin: '127.22.13.61',
  rangeEnd: '127.22.13.70',
  vrfName: 'k8s-cluster-vrf',
  ipamProfile: 'IPAM_Default',
  dnsProfile: 'DNS_Default',
  domain: 'avi.internal',
  dnsSeGroup: 'DNS-SE-Group',
  k8sSeGroup: 'K8s-SE-Group',
  dnsVs: 'Avi-DNS-Service',
  clusterName: 'demo-cluster',
  cloud: 'Default-Cloud',
} as const;

const v4 = (addr: string) => ({ addr, type: 'V4' });

/** Creates (or finds, on a second run) one object by name; returns it. */
async function ensure(api: ApiClient, type: string, body: Record<string, unknown>): Promise<any> {
  const existing = await api.byName(type, body.name as string);
  if (existing) return existing;
  return api.request('POST', `/api/${type}`, body);
}

export async function setUpLab(api: ApiClient, say: (line: string) => void): Promise<{ dnsVip: string }> {
  const vrf = await ensure(api, 'vrfcontext', { name: LAB.vrfName, cloud_ref: `/api/cloud?name=${LAB.cloud}` });
  say(`  vrfcontext ${vrf.name}`);
  const net = await ensure(api, 'network', {
    name: LAB.networkName,
    cloud_ref: `/api/cloud?name=${LAB.cloud}`,
    vrf_context_ref: `/api/vrfcontext?name=${LAB.vrfName}`,
    configured_subnets: [{
      prefix: { ip_addr: v4(LAB.subnet), mask: LAB.mask },
      static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: v4(LAB.rangeBegin), end: v4(LAB.rangeEnd) } }],
    }],
  });
  say(`  network ${net.name} ${LAB.subnet}/${LAB.mask}, static VIP pool ${LAB.rangeBegin}-${LAB.rangeEnd} (VRF ${LAB.vrfName})`);
  const ipam = await ensure(api, 'ipamdnsproviderprofile', {
    name: LAB.ipamProfile,
    type: 'IPAMDNS_TYPE_INTERNAL',
    allocate_ip_in_vrf: true,
    internal_profile: { usable_networks: [{ nw_ref: `/api/network?name=${LAB.networkName}` }] },
  });
  say(`  IPAM profile ${ipam.name} (usable network ${LAB.networkName}, allocate IP in VRF)`);
  const dns = await ensure(api, 'ipamdnsproviderprofile', {
    name: LAB.dnsProfile,
    type: 'IPAMDNS_TYPE_INTERNAL_DNS',
    internal_profile: { dns_service_domain: [{ domain_name: LAB.domain, pass_through: true }], ttl: 30 },
  });
  say(`  DNS profile ${dns.name} (domain ${LAB.domain})`);
  const cloud = await api.byName('cloud', LAB.cloud);
  await api.request('PATCH', `/api/cloud/${cloud.uuid}`, {
    replace: { ipam_provider_ref: `/api/ipamdnsproviderprofile?name=${LAB.ipamProfile}`, dns_provider_ref: `/api/ipamdnsproviderprofile?name=${LAB.dnsProfile}` },
  });
  say(`  cloud ${LAB.cloud}: IPAM ${LAB.ipamProfile}, DNS ${LAB.dnsProfile}`);
  for (const [name, prefix] of [[LAB.dnsSeGroup, 'avi_dns'], [LAB.k8sSeGroup, 'avi_k8s']] as const) {
    await ensure(api, 'serviceenginegroup', { name, cloud_ref: `/api/cloud?name=${LAB.cloud}`, se_name_prefix: prefix, buffer_se: 0 });
    say(`  SE group ${name} (prefix ${prefix}, buffer SEs 0)`);
  }
  const vsvip = await ensure(api, 'vsvip', {
    name: `${LAB.dnsVs}-vsvip`,
    cloud_ref: `/api/cloud?name=${LAB.cloud}`,
    vrf_context_ref: `/api/vrfcontext?name=${LAB.vrfName}`,
    vip: [{ vip_id: '0', auto_allocate_ip: true, ipam_network_subnet: { network_ref: `/api/network?name=${LAB.networkName}` } }],
  });
  const dnsVip: string = vsvip.vip[0].ip_address.addr;
  await ensure(api, 'virtualservice', {
    name: LAB.dnsVs,
    cloud_ref: `/api/cloud?name=${LAB.cloud}`,
    vrf_context_ref: `/api/vrfcontext?name=${LAB.vrfName}`,
    se_group_ref: `/api/serviceenginegroup?name=${LAB.dnsSeGroup}`,
    vsvip_ref: `/api/vsvip?name=${LAB.dnsVs}-vsvip`,
    application_profile_ref: '/api/applicationprofile?name=System-DNS',
    network_profile_ref: '/api/networkprofile?name=System-UDP-Fast-Path',
    services: [{ port: 53, port_range_end: 53 }],
  });
  say(`  virtual service ${LAB.dnsVs} (System-DNS) on ${dnsVip}:53, SE group ${LAB.dnsSeGroup}`);
  return { dnsVip };
}
