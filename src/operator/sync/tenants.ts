// Tenants on the sync side (tenant per namespace, translate/tenants.ts): which tenant a controller
// object lives in, which tenants to read owned objects from (every tenant the controller has, so
// orphans and deleteConfig reach objects left in a tenant no namespace names any more), and which
// of the tenants the namespaces name exist (a missing one is looked for again every pass).
import type { ControllerClient } from '../controller-client/client.js';
import { ControllerError } from '../controller-client/errors.js';
import type { ClusterSnapshot } from '../source/types.js';
import { missingTenantMessage, namedTenants } from '../translate/tenants.js';
import type { StatusEvent } from '../status/types.js';
import type { DesiredObject } from '../translate/types.js';
import type { ControllerState, HeldObject } from './state.js';
import { REF } from './compare.js';

/** The tenant name of a controller object read with include_name (`…/api/tenant/<uuid>#<name>`), if it says. */
export function tenantOf(o: Record<string, any>): string | undefined {
  const m = typeof o.tenant_ref === 'string' ? REF.exec(o.tenant_ref) : null;
  if (!m || m[1] !== 'tenant') return undefined;
  return m[4] ?? (m[3] !== undefined ? decodeURIComponent(m[3]) : undefined);
}

/** Every tenant the controller has (as admin); the configured tenant alone when the user may not list them. */
export async function tenantsToRead(client: ControllerClient): Promise<string[]> {
  try {
    const all = await client.list<{ name?: string }>('tenant', { fields: 'name' }, 'admin', 1000);
    const names = new Set(all.map((t) => t.name).filter((n): n is string => typeof n === 'string'));
    names.add(client.tenant);
    return [...names].sort();
  } catch (err) {
    if (err instanceof ControllerError && (err.status === 401 || err.status === 403)) return [client.tenant];
    throw err;
  }
}

/** A Warning for a Namespace (its involved object) naming a tenant the controller does not have. */
export interface NamespaceWarning { namespace: string; event: StatusEvent }

/**
 * The tenants namespaces name, checked on the controller: found ones are remembered until
 * `forget()` (a full sync), missing ones asked again each pass so their objects are created once
 * the tenant appears.
 */
export class TenantDirectory {
  private readonly found = new Set<string>();
  private warned = new Set<string>();

  constructor(private readonly client: ControllerClient) {}

  forget(): void {
    this.found.clear();
  }

  /** A user that may not read tenants (401/403) cannot tell: the tenant is trusted, and its writes say what is wrong. */
  private async exists(t: string): Promise<boolean> {
    try {
      return !!(await this.client.byName('tenant', t, { fields: 'name' }, 'admin'));
    } catch (err) {
      if (err instanceof ControllerError && (err.status === 401 || err.status === 403)) return true;
      throw err;
    }
  }

  /** `known`: tenants that exist (for Infra.tenants); `appeared`: some were missing last time and exist now; `missing`: Namespace warnings not given before. */
  async resolve(snapshot: ClusterSnapshot, configured: string, nsOk?: (ns: string) => boolean): Promise<{ known: Set<string>; missing: number; appeared: boolean; warnings: NamespaceWarning[] }> {
    const named = namedTenants(snapshot, configured, nsOk);
    const ask = [...named.keys()].filter((t) => !this.found.has(t));
    let appeared = false;
    await Promise.all(ask.map(async (t) => {
      if (await this.exists(t)) {
        this.found.add(t);
        if ([...this.warned].some((w) => w.endsWith(`\n${t}`))) appeared = true;
      }
    }));
    const warnings: NamespaceWarning[] = [];
    const warned = new Set<string>();
    let missing = 0;
    for (const [t, namespaces] of named) {
      if (this.found.has(t)) continue;
      missing++;
      for (const ns of namespaces) {
        const k = `${ns}\n${t}`;
        warned.add(k);
        if (!this.warned.has(k)) warnings.push({ namespace: ns, event: { type: 'Warning', reason: 'TenantNotFound', message: missingTenantMessage(ns, t) } });
      }
    }
    this.warned = warned;
    return { known: new Set(this.found), missing, appeared, warnings };
  }
}

/** Held copies of desired objects that live in another tenant than wanted (`configured`: the tenant of objects that name none). */
export function heldElsewhere(desired: readonly DesiredObject[], state: ControllerState, configured: string): HeldObject[] {
  const out: HeldObject[] = [];
  for (const d of desired) {
    const h = state.get(d.type, d.name);
    if (h && (h.tenant ?? configured) !== (d.tenant ?? configured)) out.push(h);
  }
  return out;
}
