// NodePortLocal (Antrea) only allocates node ports for the pods of Services annotated
// `nodeportlocal.antrea.io/enabled: "true"`; AKO adds it to its LoadBalancer Services and to the
// Services its Ingresses use as backends, and removes it when they no longer need it (and on
// deleteConfig). Kubernetes source only: the sink's annotateService writes it.
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import { l4Eligible } from '../translate/l4.js';
import { backendKeys, eligibleIngresses } from '../translate/ingress-parse.js';
import { namespaceFilter } from '../translate/common.js';
import { nplMode } from '../translate/npl.js';

export const NPL_SERVICE_ANNOTATION = 'nodeportlocal.antrea.io/enabled';

/** Merge-patches a Service's annotations (`null` removes one). */
export type AnnotateService = (namespace: string, name: string, annotations: Record<string, string | null>) => Promise<void>;

/** Patches in flight at once (a first pass over a big cluster annotates many Services). */
const CONCURRENCY = 8;

/** `ns/name` of the Services that need NPL: LoadBalancer Services of this operator and backends of its Ingresses. */
export function nplServiceKeys(snapshot: ClusterSnapshot, settings: OperatorSettings): Set<string> {
  const out = new Set<string>();
  if (!nplMode(settings)) return out;
  const nsOk = namespaceFilter(snapshot, settings);
  for (const [key, svc] of snapshot.services) if (l4Eligible(svc, settings, nsOk)) out.add(key);
  const backends = new Set<string>();
  for (const ing of eligibleIngresses(snapshot, settings)) backendKeys(ing, backends);
  for (const key of backends) if (snapshot.services.has(key)) out.add(key);
  return out;
}

export interface NplAnnotationReport {
  added: string[];
  removed: string[];
}

export class NplAnnotator {
  /**
   * Services this run annotated, or found annotated while it needed them: the only ones it
   * un-annotates (one a user annotated for another load balancer is never touched).
   */
  private readonly ours = new Set<string>();

  constructor(private readonly annotate: AnnotateService, private readonly onError: (service: string, err: Error) => void) {}

  /**
   * Annotates the Services that need NPL and un-annotates those this run did that no longer do
   * (all of them with `removeAll`: deleteConfig). Reads the annotations from the snapshot, so a
   * pass with nothing to change writes nothing; a failed write is tried again next pass.
   */
  async apply(snapshot: ClusterSnapshot, settings: OperatorSettings, removeAll = false): Promise<NplAnnotationReport> {
    const report: NplAnnotationReport = { added: [], removed: [] };
    if (!nplMode(settings) && this.ours.size === 0) return report;
    const needed = nplServiceKeys(snapshot, settings);
    for (const k of needed) this.ours.add(k);
    const wanted = removeAll ? new Set<string>() : needed;
    const work: Array<() => Promise<unknown>> = [];
    for (const key of [...this.ours].sort()) {
      const current = snapshot.services.get(key)?.metadata?.annotations?.[NPL_SERVICE_ANNOTATION];
      if (wanted.has(key)) {
        if (current !== 'true') work.push(() => this.write(key, 'true', report.added));
      } else if (current === undefined) this.ours.delete(key);
      else work.push(async () => { if (await this.write(key, null, report.removed)) this.ours.delete(key); });
    }
    for (let i = 0; i < work.length; i += CONCURRENCY) await Promise.all(work.slice(i, i + CONCURRENCY).map((w) => w()));
    return report;
  }

  private async write(key: string, value: 'true' | null, done: string[]): Promise<boolean> {
    const slash = key.indexOf('/');
    try {
      await this.annotate(key.slice(0, slash), key.slice(slash + 1), { [NPL_SERVICE_ANNOTATION]: value });
      done.push(key);
      return true;
    } catch (err) {
      this.onError(key, err as Error);
      return false;
    }
  }
}
