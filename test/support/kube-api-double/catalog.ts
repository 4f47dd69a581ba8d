// The kinds the double serves: the built-in ones the operator and its tests touch, plus whatever
// CustomResourceDefinitions register at run time. Discovery documents are generated from here.

export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  /** Plural, lower case: the URL segment (`services`). */
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  /** Has a `/status` subresource: status changes only through it, spec changes only through the main resource. */
  status: boolean;
  shortNames?: string[];
}

export function groupVersion(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** `group/version/plural`: the identity of a resource type in the store. */
export function resourceId(t: Pick<ResourceType, 'group' | 'version' | 'plural'>): string {
  return `${t.group}/${t.version}/${t.plural}`;
}

function rt(group: string, version: string, kind: string, plural: string, namespaced: boolean, status = false, shortNames?: string[]): ResourceType {
  return { group, version, kind, plural, singular: kind.toLowerCase(), namespaced, status, shortNames };
}

export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  rt('', 'v1', 'Namespace', 'namespaces', false, true, ['ns']),
  rt('', 'v1', 'Node', 'nodes', false, true, ['no']),
  rt('', 'v1', 'Service', 'services', true, true, ['svc']),
  rt('', 'v1', 'Endpoints', 'endpoints', true, false, ['ep']),
  rt('', 'v1', 'Secret', 'secrets', true),
  rt('', 'v1', 'ConfigMap', 'configmaps', true, false, ['cm']),
  rt('', 'v1', 'Pod', 'pods', true, true, ['po']),
  rt('', 'v1', 'Event', 'events', true, false, ['ev']),
  rt('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  rt('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, true, ['ing']),
  rt('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', false),
  rt('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  rt('events.k8s.io', 'v1', 'Event', 'events', true, false, ['ev']),
  rt('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, true, ['crd', 'crds']),
];

/** The served resource types: built-ins plus CRD-registered ones, in registration order. */
export class Catalog {
  private readonly byId = new Map<string, ResourceType>();
  /** CRD name → the ids it registered. */
  private readonly byCrd = new Map<string, string[]>();

  constructor() {
    for (const t of BUILTIN_RESOURCES) this.byId.set(resourceId(t), t);
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byId.get(`${group}/${version}/${plural}`);
  }

  /** The type serving `kind` in `apiVersion` (`v1`, `networking.k8s.io/v1`). */
  findKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const t of this.byId.values()) if (groupVersion(t) === apiVersion && t.kind === kind) return t;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.byId.values()];
  }

  /** group → versions served (core group under ''). */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.byId.values()) {
      const versions = out.get(t.group) ?? [];
      if (!versions.includes(t.version)) versions.push(t.version);
      out.set(t.group, versions);
    }
    return out;
  }

  /** Registers the served versions of a CRD object; returns the types it added. */
  registerCrd(crd: CrdObject): ResourceType[] {
    this.unregisterCrd(crd.metadata.name);
    const spec = crd.spec;
    const ids: string[] = [];
    const added: ResourceType[] = [];
    for (const v of spec.versions ?? []) {
      if (v.served === false) continue;
      const t: ResourceType = {
        group: spec.group, version: v.name, kind: spec.names.kind, plural: spec.names.plural,
        singular: spec.names.singular ?? spec.names.kind.toLowerCase(), namespaced: spec.scope !== 'Cluster',
        status: Boolean(v.subresources?.status), shortNames: spec.names.shortNames,
      };
      const id = resourceId(t);
      if (this.byId.has(id)) continue;
      this.byId.set(id, t);
      ids.push(id);
      added.push(t);
    }
    this.byCrd.set(crd.metadata.name, ids);
    return added;
  }

  /** Removes what a CRD registered; returns the removed types. */
  unregisterCrd(name: string): ResourceType[] {
    const removed: ResourceType[] = [];
    for (const id of this.byCrd.get(name) ?? []) {
      const t = this.byId.get(id);
      if (t) removed.push(t);
      this.byId.delete(id);
    }
    this.byCrd.delete(name);
    return removed;
  }
}

/** The part of an apiextensions.k8s.io/v1 CustomResourceDefinition the double reads. */
export interface CrdObject {
  metadata: { name: string };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; plural: string; singular?: string; shortNames?: string[]; listKind?: string };
    versions: Array<{ name: string; served?: boolean; storage?: boolean; subresources?: { status?: object } }>;
  };
}

export function isCrdObject(obj: unknown): obj is CrdObject {
  const o = obj as CrdObject;
  return Boolean(o?.spec?.group && o.spec.names?.kind && o.spec.names.plural && Array.isArray(o.spec.versions));
}
