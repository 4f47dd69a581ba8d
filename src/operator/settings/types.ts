// The operator's settings: the keys of AKO's Helm values file (ako-behaviour.md §6), parsed and
// defaulted. Names follow the chart so users recognise them.

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type ShardSize = 'LARGE' | 'MEDIUM' | 'SMALL' | 'DEDICATED';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'NodePortLocal';
export type AutoFqdn = 'default' | 'flat' | 'disabled';

export interface VipNetwork {
  networkName?: string;
  networkUUID?: string;
  /** `10.10.10.0/24` */
  cidr?: string;
  v6cidr?: string;
}

export interface OperatorSettings {
  clusterName: string;
  logLevel: LogLevel;
  /** Seconds; 0 turns the periodic full sync off. */
  fullSyncFrequency: number;
  apiServerPort: number;
  deleteConfig: boolean;
  layer7Only: boolean;
  enableEvents: boolean;
  /** `enableEVH`: Ingresses on Enhanced Virtual Hosting parents, names encoded (ako-behaviour.md §2.4). */
  enableEVH: boolean;
  /** `vipPerNamespace` (EVH only): one EVH parent, so one VIP, per Ingress namespace. */
  vipPerNamespace: boolean;
  primaryInstance: boolean;
  blockedNamespaceList: string[];
  namespaceSelector: { labelKey: string; labelValue: string };
  /** `disableStaticRouteSync`: no Pod CIDR routes on the VRF context and no SE group cluster label (sync/static-routes.ts). */
  disableStaticRouteSync: boolean;
  /** `cniPlugin`: `ncp` turns static routes off; the other values read Pod CIDRs from the node (spec or annotation). */
  cniPlugin: string;
  /** The namespace AKO runs in (POD_NAMESPACE): where `router-certs-default` lives. */
  akoNamespace: string;
  network: {
    vipNetworkList: VipNetwork[];
    /** Preferred DNS subdomain (NetworkSettings.defaultDomain, else L4Settings.defaultDomain). */
    defaultDomain: string;
    enableRHI: boolean;
    bgpPeerLabels: string[];
  };
  l7: {
    defaultIngController: boolean;
    serviceType: ServiceType;
    shardVSSize: ShardSize;
    passthroughShardSize: ShardSize;
    noPGForSNI: boolean;
    /** Older charts' `L7ShardingScheme`: shard by host (default) or by the Ingress namespace. */
    shardScheme: 'hostname' | 'namespace';
    /**
     * EVH only: `InterNamespaceAllowed` merges a host's paths from every namespace; with `Strict` the
     * namespace of the oldest Ingress naming a host claims it, and an Ingress of another namespace
     * naming a claimed host is not served at all.
     */
    fqdnReusePolicy: 'InterNamespaceAllowed' | 'Strict';
  };
  l4: {
    defaultLBController: boolean;
    autoFQDN: AutoFqdn;
  };
  controller: {
    serviceEngineGroupName: string;
    controllerVersion: string;
    cloudName: string;
    controllerHost: string;
    tenantName: string;
    /** Empty: the cloud's `global` VRF. */
    vrfName: string;
  };
  nodePortSelector: { key: string; value: string };
  credentials: { username?: string; password?: string; authtoken?: string; certificateAuthorityData?: string };
}

/** A key of the values file that was not understood or is not supported (reported at start). */
export interface SettingsProblem {
  key: string;
  message: string;
}

export interface LoadedSettings {
  settings: OperatorSettings;
  problems: SettingsProblem[];
}
