// Start-up checks (ako-behaviour.md §1.6): the controller is up, and the tenant, cloud (with
// IPAM), VRF, SE group and VIP networks the settings name exist. Each failure says what to fix;
// the caller logs it and tries again later (never a crash loop).
import type { ControllerClient } from './controller-client/client.js';
import { ControllerError } from './controller-client/errors.js';
import type { OperatorSettings } from './settings/types.js';
import { clusterNameProblem } from './settings/values.js';
import type { Infra } from './translate/types.js';
import { checkSeGroupLabels } from './sync/static-routes.js';

const UP_STATES = new Set(['CLUSTER_UP_NO_HA', 'CLUSTER_UP_HA_ACTIVE', 'CLUSTER_UP_HA_COMPROMISED']);
const PUBLIC_CLOUDS = new Set(['CLOUD_AWS', 'CLOUD_AZURE', 'CLOUD_GCP']);

export type InfraResult = { ok: true; infra: Infra } | { ok: false; problem: string };

function nameOfRef(r: unknown): string | undefined {
  if (typeof r !== 'string') return undefined;
  const hash = r.indexOf('#');
  return hash >= 0 ? r.slice(hash + 1) : undefined;
}

/** `mayWrite`: false for a follower, which only checks (the SE group's missing cluster label is put by the leader). */
export async function readInfra(client: ControllerClient, settings: OperatorSettings, mayWrite = true): Promise<InfraResult> {
  const bad = clusterNameProblem(settings.clusterName);
  if (bad) return { ok: false, problem: bad };
  const c = settings.controller;
  if (!c.cloudName) return { ok: false, problem: 'ControllerSettings.cloudName is empty: name the controller cloud to use' };
  try {
    const runtime = await client.get<{ cluster_state?: { state?: string } }>('/api/cluster/runtime', 'admin');
    const state = runtime.cluster_state?.state ?? '';
    if (!UP_STATES.has(state)) return { ok: false, problem: `the controller cluster is not up (state ${state || 'unknown'}): wait for it or check the controller` };

    if (!(await client.byName('tenant', c.tenantName, {}, 'admin'))) {
      return { ok: false, problem: `tenant ${c.tenantName} does not exist on the controller: create it or fix ControllerSettings.tenantName` };
    }
    const cloud = await client.byName('cloud', c.cloudName, {}, 'admin');
    if (!cloud) return { ok: false, problem: `cloud ${c.cloudName} does not exist on the controller: fix ControllerSettings.cloudName` };
    if (!cloud.ipam_provider_ref && !PUBLIC_CLOUDS.has(cloud.vtype)) {
      return { ok: false, problem: `cloud ${c.cloudName} has no IPAM profile (ipam_provider_ref): attach one so VIPs can be allocated` };
    }
    const vrf = c.vrfName || 'global';
    if (!(await client.byName('vrfcontext', vrf, { 'cloud_ref.name': c.cloudName }, 'admin'))) {
      return { ok: false, problem: `VRF ${vrf} does not exist in cloud ${c.cloudName}: fix ControllerSettings.vrfName` };
    }
    if (!(await client.byName('serviceenginegroup', c.serviceEngineGroupName, { 'cloud_ref.name': c.cloudName }))) {
      return { ok: false, problem: `SE group ${c.serviceEngineGroupName} does not exist in cloud ${c.cloudName}: fix ControllerSettings.serviceEngineGroupName` };
    }
    const labelProblem = await checkSeGroupLabels(client, settings, mayWrite);
    if (labelProblem) return { ok: false, problem: labelProblem };
    const vipNetworks: Infra['vipNetworks'] = [];
    for (const n of settings.network.vipNetworkList) {
      const net = n.networkUUID
        ? await client.get(`/api/network/${encodeURIComponent(n.networkUUID)}?include_name=true`, 'admin').catch((e) => { if (e instanceof ControllerError && e.status === 404) return undefined; throw e; })
        : await client.byName('network', n.networkName!, { 'cloud_ref.name': c.cloudName }, 'admin');
      if (!net) return { ok: false, problem: `VIP network ${n.networkName ?? n.networkUUID} does not exist in cloud ${c.cloudName}: fix NetworkSettings.vipNetworkList` };
      let subnet: { addr: string; mask: number } | undefined;
      if (n.cidr) {
        const [addr, mask] = n.cidr.split('/');
        subnet = { addr: addr!, mask: Number(mask) };
      } else {
        const prefix = net.configured_subnets?.[0]?.prefix;
        if (prefix?.ip_addr?.addr) subnet = { addr: prefix.ip_addr.addr, mask: prefix.mask };
      }
      vipNetworks.push({ name: net.name, ...(subnet ? { subnet } : {}) });
    }
    const dnsDomains = await readDnsDomains(client, cloud);
    let licenseTier = 'ENTERPRISE';
    try {
      const sys = await client.get<Record<string, any>>('/api/systemconfiguration', 'admin');
      const conf = Array.isArray(sys.results) ? sys.results[0] : sys;
      if (typeof conf?.default_license_tier === 'string') licenseTier = conf.default_license_tier;
    } catch (err) {
      if (!(err instanceof ControllerError) || err.status !== 404) throw err;
    }
    const cluster = await client.get<{ uuid?: string }>('/api/cluster', 'admin').catch(() => ({ uuid: undefined }));
    return {
      ok: true,
      infra: { tenant: c.tenantName, cloud: c.cloudName, vrf, seGroup: c.serviceEngineGroupName, dnsDomains, vipNetworks, licenseTier, ...(cluster.uuid ? { clusterUuid: cluster.uuid } : {}) },
    };
  } catch (err) {
    if (err instanceof ControllerError) {
      if (err.errorClass === 'network') return { ok: false, problem: `the controller at ${client.origin} is not reachable (${err.detail}): check --controller and that it runs` };
      if (err.errorClass === 'bad-credentials') return { ok: false, problem: 'the controller refused the credentials: fix avicredentials.username/password or PORTICO_USERNAME/PORTICO_PASSWORD' };
      return { ok: false, problem: `the controller answered ${err.message}` };
    }
    throw err;
  }
}

async function readDnsDomains(client: ControllerClient, cloud: Record<string, any>): Promise<string[]> {
  try {
    const r = await client.get<{ domains?: string[] }>(`/api/ipamdnsproviderprofiledomainlist?cloud_uuid=${encodeURIComponent(cloud.uuid)}`, 'admin');
    if (Array.isArray(r.domains)) return [...r.domains].sort();
  } catch (err) {
    if (!(err instanceof ControllerError) || err.status !== 404) throw err;
  }
  const dnsName = nameOfRef(cloud.dns_provider_ref);
  if (!dnsName) return [];
  const prof = await client.byName('ipamdnsproviderprofile', dnsName, {}, 'admin');
  const domains: unknown[] = prof?.internal_profile?.dns_service_domain ?? [];
  return domains.map((d) => (d as { domain_name?: string }).domain_name).filter((d): d is string => !!d).sort();
}
