// CustomResourceDefinitions of the ako.vmware.com group (the ones the operator reads), for tests
// that need "the CRDs are installed". Schemas are left open: the double does not validate them.

interface AkoCrd { kind: string; plural: string; singular: string; version: string; shortNames?: string[] }

const AKO_CRDS: AkoCrd[] = [
  { kind: 'HostRule', plural: 'hostrules', singular: 'hostrule', version: 'v1beta1', shortNames: ['hostrule', 'hr'] },
  { kind: 'HTTPRule', plural: 'httprules', singular: 'httprule', version: 'v1beta1', shortNames: ['httprule'] },
  { kind: 'AviInfraSetting', plural: 'aviinfrasettings', singular: 'aviinfrasetting', version: 'v1beta1', shortNames: ['aviinfrasetting'] },
  { kind: 'L4Rule', plural: 'l4rules', singular: 'l4rule', version: 'v1alpha2', shortNames: ['l4rule'] },
  { kind: 'SSORule', plural: 'ssorules', singular: 'ssorule', version: 'v1alpha2', shortNames: ['ssorule'] },
  { kind: 'L7Rule', plural: 'l7rules', singular: 'l7rule', version: 'v1alpha2', shortNames: ['l7rule'] },
];

export const AKO_GROUP = 'ako.vmware.com';

export function akoCrd(kind: string): object {
  const c = AKO_CRDS.find((x) => x.kind === kind);
  if (!c) throw new Error(`no AKO CRD of kind ${kind} (known: ${AKO_CRDS.map((x) => x.kind).join(', ')})`);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${c.plural}.${AKO_GROUP}` },
    spec: {
      group: AKO_GROUP,
      scope: c.kind === 'AviInfraSetting' ? 'Cluster' : 'Namespaced',
      names: { kind: c.kind, plural: c.plural, singular: c.singular, shortNames: c.shortNames, listKind: `${c.kind}List` },
      versions: [{
        name: c.version, served: true, storage: true, subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      }],
    },
  };
}

export function akoCrds(): object[] {
  return AKO_CRDS.map((c) => akoCrd(c.kind));
}
