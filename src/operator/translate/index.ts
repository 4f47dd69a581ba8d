// PURE translation: snapshot + settings + infra → desired controller objects and per-object
// outcomes. No I/O, deterministic (stable names, stable order): the same input gives the same
// output byte for byte, which is what makes a restart with nothing changed write nothing.
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import { WRITE_ORDER, type Infra, type ObjectOutcome, type Translation } from './types.js';
import { ObjectSet } from './objects.js';
import { Names } from './names.js';
import { EndpointIndex } from './members.js';
import { buildL4 } from './l4.js';
import { readCrds, applyCrds, buildIngressesByInfra, type KnownRefs } from './crd/index.js';

export type { Translation, Infra, DesiredObject, ObjectOutcome, OwnedType } from './types.js';
export { WRITE_ORDER } from './types.js';
export type { CrdVerdict, KnownRefs } from './crd/index.js';

/** `known`: what the controller holds of the objects CRDs name (crd-status.ts reads it); without it those names are trusted. */
export function translate(input: ClusterSnapshot, settings: OperatorSettings, infra: Infra, known?: KnownRefs): Translation {
  // CRDs first: a Rejected HostRule must not lend its certificate to the builders.
  const crds = readCrds(input, known);
  const snapshot = crds.view;
  const names = new Names(settings.clusterName, settings.enableEVH);
  const set = new ObjectSet(infra, settings.clusterName, names.createdBy());
  const endpoints = new EndpointIndex(snapshot, settings);
  const outcomes: ObjectOutcome[] = [];
  buildL4(snapshot, settings, set, names, endpoints, outcomes);
  buildIngressesByInfra(snapshot, settings, set, names, endpoints, outcomes, crds.infras, known, crds.rejected.get('AviInfraSetting')!);
  const crdStatuses = applyCrds(set, crds, known, outcomes);
  outcomes.sort((a, b) => cmp(a.ref.kind, b.ref.kind) || cmp(a.ref.namespace, b.ref.namespace) || cmp(a.ref.name, b.ref.name));
  return { objects: set.finish(WRITE_ORDER), outcomes, crdStatuses };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
