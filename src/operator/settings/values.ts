// Reads an AKO Helm values file (and the env vars AKO's configmap becomes) into OperatorSettings.
// Every key of the chart is known: the ones Portico implements are applied, the ones it does not
// are reported when set to anything but their default, and unknown keys are reported too.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { LoadedSettings, OperatorSettings, SettingsProblem, ShardSize, VipNetwork } from './types.js';

export function defaultSettings(): OperatorSettings {
  return {
    clusterName: 'my-cluster', logLevel: 'WARN', fullSyncFrequency: 1800, apiServerPort: 8080,
    deleteConfig: false, layer7Only: false, enableEvents: true, enableEVH: false, vipPerNamespace: false, primaryInstance: true,
    blockedNamespaceList: [], namespaceSelector: { labelKey: '', labelValue: '' }, akoNamespace: 'avi-system',
    disableStaticRouteSync: false, cniPlugin: '',
    network: { vipNetworkList: [], defaultDomain: '', enableRHI: false, bgpPeerLabels: [] },
    l7: { defaultIngController: true, serviceType: 'ClusterIP', shardVSSize: 'LARGE', passthroughShardSize: 'SMALL', noPGForSNI: false, shardScheme: 'hostname', fqdnReusePolicy: 'InterNamespaceAllowed' },
    l4: { defaultLBController: true, autoFQDN: 'default' },
    controller: { serviceEngineGroupName: 'Default-Group', controllerVersion: '', cloudName: 'Default-Cloud', controllerHost: '', tenantName: 'admin', vrfName: '' },
    nodePortSelector: { key: '', value: '' },
    credentials: {},
  };
}

/** Keys of the chart that Portico reads: path → how to apply the value. */
type Apply = (s: OperatorSettings, v: unknown, key: string, problems: SettingsProblem[]) => void;

const SHARD_SIZES: readonly ShardSize[] = ['LARGE', 'MEDIUM', 'SMALL', 'DEDICATED'];

function bool(v: unknown, key: string, problems: SettingsProblem[]): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  if (v === '' || v === null || v === undefined) return undefined;
  problems.push({ key, message: `expected true or false, got ${JSON.stringify(v)}` });
  return undefined;
}

function str(v: unknown, key: string, problems: SettingsProblem[]): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  problems.push({ key, message: `expected a string, got ${JSON.stringify(v)}` });
  return undefined;
}

function int(v: unknown, key: string, problems: SettingsProblem[], min: number, max: number): number | undefined {
  const s = str(v, key, problems);
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push({ key, message: `expected an integer in ${min}..${max}, got ${JSON.stringify(v)}` });
    return undefined;
  }
  return n;
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (v: unknown, key: string, problems: SettingsProblem[]): T | undefined => {
    const s = str(v, key, problems);
    if (s === undefined || s === '') return undefined;
    const hit = allowed.find((a) => a.toLowerCase() === s.toLowerCase());
    if (!hit) problems.push({ key, message: `expected one of ${allowed.join('|')}, got ${JSON.stringify(s)}` });
    return hit;
  };
}

/** A list given as YAML list or (as the configmap carries it) a JSON string. */
function list(v: unknown, key: string, problems: SettingsProblem[]): unknown[] | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') {
    try {
      const parsed: unknown = JSON.parse(v);
      if (Array.isArray(parsed)) return parsed;
    } catch { /* reported below */ }
  }
  problems.push({ key, message: 'expected a list (or a JSON list in a string)' });
  return undefined;
}

function vipNetworks(v: unknown, key: string, problems: SettingsProblem[]): VipNetwork[] | undefined {
  const items = list(v, key, problems);
  if (!items) return undefined;
  const out: VipNetwork[] = [];
  items.forEach((it, i) => {
    const k = `${key}[${i}]`;
    if (!it || typeof it !== 'object') { problems.push({ key: k, message: 'expected {networkName|networkUUID, cidr?, v6cidr?}' }); return; }
    const o = it as Record<string, unknown>;
    const net: VipNetwork = {};
    for (const f of ['networkName', 'networkUUID', 'cidr', 'v6cidr'] as const) {
      const s = str(o[f], `${k}.${f}`, problems);
      if (s) net[f] = s;
    }
    for (const f of Object.keys(o)) if (!['networkName', 'networkUUID', 'cidr', 'v6cidr'].includes(f)) problems.push({ key: `${k}.${f}`, message: 'unknown key' });
    if (!net.networkName && !net.networkUUID) { problems.push({ key: k, message: 'needs networkName or networkUUID' }); return; }
    if (net.cidr && !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(net.cidr)) { problems.push({ key: `${k}.cidr`, message: `not an IPv4 CIDR: ${net.cidr}` }); delete net.cidr; }
    out.push(net);
  });
  return out;
}

function strings(v: unknown, key: string, problems: SettingsProblem[]): string[] | undefined {
  const items = list(v, key, problems);
  if (!items) return undefined;
  return items.filter((x, i) => {
    if (typeof x === 'string') return true;
    problems.push({ key: `${key}[${i}]`, message: 'expected a string' });
    return false;
  }) as string[];
}

const set = <T>(parse: (v: unknown, key: string, p: SettingsProblem[]) => T | undefined, assign: (s: OperatorSettings, v: T) => void): Apply =>
  (s, v, key, p) => { const x = parse(v, key, p); if (x !== undefined) assign(s, x); };

const APPLIED: Record<string, Apply> = {
  'AKOSettings.clusterName': set(str, (s, v) => { s.clusterName = v; }),
  'AKOSettings.logLevel': set(oneOf(['DEBUG', 'INFO', 'WARN', 'ERROR'] as const), (s, v) => { s.logLevel = v; }),
  'AKOSettings.fullSyncFrequency': set((v, k, p) => int(v, k, p, 0, 86400 * 7), (s, v) => { s.fullSyncFrequency = v; }),
  'AKOSettings.apiServerPort': set((v, k, p) => int(v, k, p, 0, 65535), (s, v) => { s.apiServerPort = v; }),
  'AKOSettings.deleteConfig': set(bool, (s, v) => { s.deleteConfig = v; }),
  'AKOSettings.layer7Only': set(bool, (s, v) => { s.layer7Only = v; }),
  'AKOSettings.enableEvents': set(bool, (s, v) => { s.enableEvents = v; }),
  'AKOSettings.primaryInstance': set(bool, (s, v) => { s.primaryInstance = v; }),
  'AKOSettings.enableEVH': set(bool, (s, v) => { s.enableEVH = v; }),
  'AKOSettings.vipPerNamespace': set(bool, (s, v) => { s.vipPerNamespace = v; }),
  'AKOSettings.disableStaticRouteSync': set(bool, (s, v) => { s.disableStaticRouteSync = v; }),
  // V4 is what Portico does (AKO's default); only V6 is something it cannot honour.
  'AKOSettings.ipFamily': (s, v, key, p) => {
    if (oneOf(['V4', 'V6'] as const)(v, key, p) === 'V6') p.push({ key, message: 'V6 is not supported by Portico (IPv4 VIPs, pool members and routes are used)' });
  },
  // calico/canal, cilium, openshift and ovn-kubernetes: Pod CIDRs come from the CNI's objects (sync/cni-cidrs.ts).
  'AKOSettings.cniPlugin': set(str, (s, v) => { s.cniPlugin = v.toLowerCase(); }),
  'AKOSettings.blockedNamespaceList': set(strings, (s, v) => { s.blockedNamespaceList = v; }),
  'AKOSettings.namespaceSelector.labelKey': set(str, (s, v) => { s.namespaceSelector.labelKey = v; }),
  'AKOSettings.namespaceSelector.labelValue': set(str, (s, v) => { s.namespaceSelector.labelValue = v; }),
  'NetworkSettings.vipNetworkList': set(vipNetworks, (s, v) => { s.network.vipNetworkList = v; }),
  'NetworkSettings.defaultDomain': set(str, (s, v) => { if (v) s.network.defaultDomain = v; }),
  'NetworkSettings.enableRHI': set(bool, (s, v) => { s.network.enableRHI = v; }),
  'NetworkSettings.bgpPeerLabels': set(strings, (s, v) => { s.network.bgpPeerLabels = v; }),
  'L7Settings.defaultIngController': set(bool, (s, v) => { s.l7.defaultIngController = v; }),
  // NodePortLocal: members from Antrea's pod annotations (translate/npl.ts; Pods are watched).
  'L7Settings.serviceType': set(oneOf(['ClusterIP', 'NodePort', 'NodePortLocal'] as const), (s, v) => { s.l7.serviceType = v; }),
  'L7Settings.shardVSSize': set(oneOf(SHARD_SIZES), (s, v) => { s.l7.shardVSSize = v; }),
  'L7Settings.passthroughShardSize': set(oneOf(SHARD_SIZES), (s, v) => { s.l7.passthroughShardSize = v; }),
  'L7Settings.noPGForSNI': set(bool, (s, v) => { s.l7.noPGForSNI = v; }),
  'L7Settings.l7ShardingScheme': set(oneOf(['hostname', 'namespace'] as const), (s, v) => { s.l7.shardScheme = v; }),
  'L7Settings.L7ShardingScheme': set(oneOf(['hostname', 'namespace'] as const), (s, v) => { s.l7.shardScheme = v; }),
  'L7Settings.fqdnReusePolicy': set(oneOf(['InterNamespaceAllowed', 'Strict'] as const), (s, v) => { s.l7.fqdnReusePolicy = v; }),
  'L4Settings.defaultLBController': set(bool, (s, v) => { s.l4.defaultLBController = v; }),
  'L4Settings.autoFQDN': set(str, (s, v) => { s.l4.autoFQDN = v === 'default' || v === 'flat' ? v : 'disabled'; }),
  // Deprecated: used only when NetworkSettings.defaultDomain is empty (see finish()).
  'L4Settings.defaultDomain': () => undefined,
  'ControllerSettings.serviceEngineGroupName': set(str, (s, v) => { if (v) s.controller.serviceEngineGroupName = v; }),
  'ControllerSettings.controllerVersion': set(str, (s, v) => { s.controller.controllerVersion = v; }),
  'ControllerSettings.cloudName': set(str, (s, v) => { s.controller.cloudName = v; }),
  'ControllerSettings.controllerHost': set(str, (s, v) => { s.controller.controllerHost = v; }),
  'ControllerSettings.tenantName': set(str, (s, v) => { if (v) s.controller.tenantName = v; }),
  'ControllerSettings.vrfName': set(str, (s, v) => { s.controller.vrfName = v; }),
  'nodePortSelector.key': set(str, (s, v) => { s.nodePortSelector.key = v; }),
  'nodePortSelector.value': set(str, (s, v) => { s.nodePortSelector.value = v; }),
  'avicredentials.username': set(str, (s, v) => { if (v) s.credentials.username = v; }),
  'avicredentials.password': set(str, (s, v) => { if (v) s.credentials.password = v; }),
  'avicredentials.authtoken': set(str, (s, v) => { if (v) s.credentials.authtoken = v; }),
  'avicredentials.certificateAuthorityData': set(str, (s, v) => { if (v) s.credentials.certificateAuthorityData = v; }),
  // Older charts: one VIP network as networkName + subnetIP/subnetPrefix (converted in finish()).
  'NetworkSettings.networkName': () => undefined,
  'NetworkSettings.subnetIP': () => undefined,
  'NetworkSettings.subnetPrefix': () => undefined,
};

/** Keys of the chart that only matter to the Helm templates (image, resources, …): accepted silently. */
const DEPLOYMENT_KEYS = [
  'replicaCount', 'image', 'GatewayAPI', 'resources', 'securityContext', 'podSecurityContext', 'rbac',
  'persistentVolumeClaim', 'mountPath', 'logFile', 'akoGatewayLogFile', 'ako-crd-operator', 'featureGates',
  'nameOverride', 'fullnameOverride', 'podAnnotations', 'podLabels', 'nodeSelector', 'tolerations', 'affinity',
  // Portico's chart: leader election timings, passed as --lease-duration/--renew-deadline/--retry-period.
  'leaderElection',
];

/** Keys of the chart Portico knows but does not implement, with their default (any other value is reported). */
const UNSUPPORTED: Record<string, unknown> = {
  'AKOSettings.servicesAPI': false,
  'AKOSettings.istioEnabled': false,
  'AKOSettings.useDefaultSecretsOnly': false,
  'AKOSettings.vpcMode': false,
  'NetworkSettings.nodeNetworkList': [],
  'NetworkSettings.nsxtT1LR': '',
  'L7Settings.enableMCI': false,
  'ControllerSettings.dedicatedTenantMode': false,
};

function isDefaultish(v: unknown, def: unknown): boolean {
  if (v === null || v === undefined || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof def === 'boolean') return String(v) === String(def);
  return v === def;
}

function walk(prefix: string, v: unknown, out: Array<[string, unknown]>): void {
  if (v && typeof v === 'object' && !Array.isArray(v) && !(prefix in APPLIED) && !(prefix in UNSUPPORTED)) {
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) walk(prefix ? `${prefix}.${k}` : k, child, out);
    return;
  }
  out.push([prefix, v]);
}

/** Settings from a parsed values document (the object YAML gives). */
export function settingsFromValues(values: unknown, env: NodeJS.ProcessEnv = {}): LoadedSettings {
  const s = defaultSettings();
  const problems: SettingsProblem[] = [];
  const leaves: Array<[string, unknown]> = [];
  if (values !== null && values !== undefined) {
    if (typeof values !== 'object' || Array.isArray(values)) problems.push({ key: '(top)', message: 'the values file must be a mapping of keys' });
    else walk('', values, leaves);
  }
  const raw = new Map(leaves);
  for (const [key, v] of leaves) {
    const top = key.split('.')[0]!;
    if (APPLIED[key]) APPLIED[key]!(s, v, key, problems);
    else if (key in UNSUPPORTED) {
      if (!isDefaultish(v, UNSUPPORTED[key])) problems.push({ key, message: `not supported by Portico (value ${JSON.stringify(v)} ignored)` });
    } else if (!DEPLOYMENT_KEYS.includes(top)) problems.push({ key, message: 'unknown key (ignored)' });
  }
  finish(s, raw, env, problems);
  return { settings: s, problems };
}

/** Cross-key rules and env overrides (the chart's configmap becomes env vars in AKO). */
function finish(s: OperatorSettings, raw: Map<string, unknown>, env: NodeJS.ProcessEnv, problems: SettingsProblem[]): void {
  if (!s.network.defaultDomain) {
    const l4 = raw.get('L4Settings.defaultDomain');
    if (typeof l4 === 'string' && l4) s.network.defaultDomain = l4;
  }
  const oldNet = raw.get('NetworkSettings.networkName');
  if (typeof oldNet === 'string' && oldNet && s.network.vipNetworkList.length === 0) {
    const ip = raw.get('NetworkSettings.subnetIP');
    const prefix = raw.get('NetworkSettings.subnetPrefix');
    s.network.vipNetworkList = [{ networkName: oldNet, ...(ip && prefix ? { cidr: `${ip}/${prefix}` } : {}) }];
  }
  const e = (name: string) => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  const envProblems: SettingsProblem[] = [];
  const envApply = (name: string, key: string) => { const v = e(name); if (v !== undefined) APPLIED[key]!(s, v, `env ${name}`, envProblems); };
  envApply('CLUSTER_NAME', 'AKOSettings.clusterName');
  envApply('CLOUD_NAME', 'ControllerSettings.cloudName');
  envApply('SEG_NAME', 'ControllerSettings.serviceEngineGroupName');
  envApply('TENANT_NAME', 'ControllerSettings.tenantName');
  envApply('VRF_NAME', 'ControllerSettings.vrfName');
  envApply('SHARD_VS_SIZE', 'L7Settings.shardVSSize');
  envApply('PASSTHROUGH_SHARD_SIZE', 'L7Settings.passthroughShardSize');
  envApply('FULL_SYNC_INTERVAL', 'AKOSettings.fullSyncFrequency');
  envApply('SERVICE_TYPE', 'L7Settings.serviceType');
  envApply('VIP_NETWORK_LIST', 'NetworkSettings.vipNetworkList');
  envApply('BLOCKED_NS_LIST', 'AKOSettings.blockedNamespaceList');
  envApply('NODE_KEY', 'nodePortSelector.key');
  envApply('NODE_VALUE', 'nodePortSelector.value');
  envApply('AUTO_L4_FQDN', 'L4Settings.autoFQDN');
  envApply('DEFAULT_DOMAIN', 'NetworkSettings.defaultDomain');
  envApply('DEFAULT_LB_CONTROLLER', 'L4Settings.defaultLBController');
  envApply('CTRL_IPADDRESS', 'ControllerSettings.controllerHost');
  envApply('LOG_LEVEL', 'AKOSettings.logLevel');
  envApply('ENABLE_EVH', 'AKOSettings.enableEVH');
  envApply('VIP_PER_NAMESPACE', 'AKOSettings.vipPerNamespace');
  envApply('DISABLE_STATIC_ROUTE_SYNC', 'AKOSettings.disableStaticRouteSync');
  envApply('FQDN_REUSE_POLICY', 'L7Settings.fqdnReusePolicy');
  envApply('IP_FAMILY', 'AKOSettings.ipFamily');
  envApply('CNI_PLUGIN', 'AKOSettings.cniPlugin');
  envApply('PORTICO_USERNAME', 'avicredentials.username');
  envApply('PORTICO_PASSWORD', 'avicredentials.password');
  envApply('PORTICO_AUTHTOKEN', 'avicredentials.authtoken');
  envApply('PORTICO_CA_DATA', 'avicredentials.certificateAuthorityData');
  problems.push(...envProblems);
  if (e('POD_NAMESPACE')) s.akoNamespace = e('POD_NAMESPACE')!;
  // As AKO: vipPerNamespace only shapes EVH parents; without EVH it does nothing.
  if (s.vipPerNamespace && !s.enableEVH) {
    problems.push({ key: 'AKOSettings.vipPerNamespace', message: 'needs AKOSettings.enableEVH: true (ignored in SNI mode)' });
    s.vipPerNamespace = false;
  }
  // As AKO: the FQDN reuse policy is read in EVH mode only.
  if (s.l7.fqdnReusePolicy === 'Strict' && !s.enableEVH) {
    problems.push({ key: 'L7Settings.fqdnReusePolicy', message: 'Strict needs AKOSettings.enableEVH: true (ignored in SNI mode)' });
    s.l7.fqdnReusePolicy = 'InterNamespaceAllowed';
  }
}

/** Why a clusterName is not acceptable (§1.6), or undefined when it is. */
export function clusterNameProblem(name: string): string | undefined {
  if (!name) return 'AKOSettings.clusterName is empty: set it to a name unique per cluster and cloud';
  if (!/^[a-zA-Z0-9_-]+$/.test(name)) return `AKOSettings.clusterName ${JSON.stringify(name)} may only hold letters, digits, "-" and "_"`;
  if (name.length > 32) return `AKOSettings.clusterName ${JSON.stringify(name)} is longer than 32 characters`;
  return undefined;
}

/** Reads `--values FILE` (absent → defaults) and applies env overrides. A file that does not parse is a problem, not a crash. */
export function loadSettings(file: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedSettings {
  if (!file) return settingsFromValues(undefined, env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const r = settingsFromValues(undefined, env);
    r.problems.unshift({ key: file, message: `cannot read the values file: ${(err as Error).message}` });
    return r;
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const r = settingsFromValues(undefined, env);
    r.problems.unshift({ key: file, message: `the values file is not valid YAML: ${(err as Error).message}` });
    return r;
  }
  return settingsFromValues(doc, env);
}
