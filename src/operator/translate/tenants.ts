// Tenant per namespace (AKO 1.13.1 multitenancy): a namespace annotated
// `ako.vmware.com/tenant-name: <t>` has the objects of its LoadBalancer Services (VS, VsVip, pools,
// L4PolicySet) built in controller tenant <t> instead of ControllerSettings.tenantName. Ingresses
// stay on the shared parents of the configured tenant (docs/operator.md says why). A tenant the
// controller does not have: that namespace's objects are not built and each gets a Warning.
import type { ClusterSnapshot } from '../source/types.js';
import type { ObjectOutcome } from './types.js';
import { ObjectSet } from './objects.js';
import { pushTo, warn } from './common.js';

export const TENANT_ANNOTATION = 'ako.vmware.com/tenant-name';

/** The tenant a namespace names, when it names one other than the configured tenant. */
export function namespaceTenant(snapshot: ClusterSnapshot, ns: string, configured: string): string | undefined {
  const t = snapshot.namespaces.get(ns)?.metadata?.annotations?.[TENANT_ANNOTATION]?.trim();
  return t && t !== configured ? t : undefined;
}

/** Every tenant the handled namespaces (`nsOk`) name, other than the configured one, with the namespaces naming it. */
export function namedTenants(snapshot: ClusterSnapshot, configured: string, nsOk: (ns: string) => boolean = () => true): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const ns of snapshot.namespaces.keys()) {
    const t = nsOk(ns) ? namespaceTenant(snapshot, ns, configured) : undefined;
    if (!t) continue;
    pushTo(out, t, ns);
  }
  return out;
}

export function missingTenantMessage(ns: string, tenant: string): string {
  return `namespace ${ns} names tenant ${tenant} (${TENANT_ANNOTATION}), which the controller does not have: its objects are not created until the tenant exists`;
}

/**
 * Runs `build` (which adds one namespace's objects to `set` and their outcomes to `outcomes`) in
 * that namespace's tenant. `set.infra.tenants` lists the tenants the controller has (undefined:
 * every named tenant is trusted); a missing one → the objects are built aside and dropped, and
 * the outcomes carry a TenantNotFound Warning and no VIP.
 */
export function buildInNamespaceTenant(snapshot: ClusterSnapshot, set: ObjectSet, ns: string, outcomes: ObjectOutcome[],
  build: (into: ObjectSet, outcomes: ObjectOutcome[]) => void): void {
  const tenant = namespaceTenant(snapshot, ns, set.infra.tenant);
  if (!tenant) { build(set, outcomes); return; }
  if (set.infra.tenants && !set.infra.tenants.has(tenant)) {
    const mine: ObjectOutcome[] = [];
    build(new ObjectSet(set.infra, set.cluster, set.createdBy), mine);
    for (const o of mine) {
      o.vips = [];
      o.virtualServices = [];
      o.hostVs = {};
      o.tenant = tenant;
      warn(o, 'TenantNotFound', missingTenantMessage(ns, tenant));
      outcomes.push(o);
    }
    return;
  }
  const first = outcomes.length;
  set.useTenant(tenant);
  try {
    build(set, outcomes);
  } finally {
    set.useTenant(undefined);
  }
  for (let i = first; i < outcomes.length; i++) outcomes[i]!.tenant = tenant;
}
