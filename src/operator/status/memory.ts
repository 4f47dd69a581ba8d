// The status sink of manifest mode: what the operator would write to Kubernetes, kept in memory
// for `portico status` (and /api/status). Events are de-duplicated; `set` replaces an object's
// events with the ones that still apply, so a fixed Warning disappears.
import type { ObjectRef, ObjectStatus, StatusEvent, StatusSink } from './types.js';

export interface MemoryStatusSink extends StatusSink {
  /** Every handled object, sorted by kind, namespace, name. */
  list(): ObjectStatus[];
  get(ref: ObjectRef): ObjectStatus | undefined;
  /** AKO's verdict on a CRD object (HostRule, …): kept for the view, as the Kubernetes sink writes it. */
  crdStatus(ref: ObjectRef, status: { status: 'Accepted' | 'Rejected'; error?: string }): Promise<void>;
  /** The CRD verdicts, sorted like `list()`. */
  crdStatuses(): Array<{ ref: ObjectRef; status: 'Accepted' | 'Rejected'; error: string }>;
}

export function statusKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

function sameEvent(a: StatusEvent, b: StatusEvent): boolean {
  return a.type === b.type && a.reason === b.reason && a.message === b.message;
}

function uniqueEvents(events: StatusEvent[]): StatusEvent[] {
  const out: StatusEvent[] = [];
  for (const e of events) if (!out.some((x) => sameEvent(x, e))) out.push({ type: e.type, reason: e.reason, message: e.message });
  return out;
}

export function createMemoryStatusSink(): MemoryStatusSink {
  const objects = new Map<string, ObjectStatus>();
  const verdicts = new Map<string, { ref: ObjectRef; status: 'Accepted' | 'Rejected'; error: string }>();
  const byRef = (a: { ref: ObjectRef }, b: { ref: ObjectRef }): number =>
    a.ref.kind.localeCompare(b.ref.kind) || a.ref.namespace.localeCompare(b.ref.namespace) || a.ref.name.localeCompare(b.ref.name);
  return {
    async set(status) {
      const copy = structuredClone(status);
      copy.events = uniqueEvents(copy.events ?? []);
      objects.set(statusKey(status.ref), copy);
    },
    async clear(ref) {
      objects.delete(statusKey(ref));
      verdicts.delete(statusKey(ref));
    },
    async event(ref, event) {
      const key = statusKey(ref);
      let s = objects.get(key);
      if (!s) {
        s = { ref: structuredClone(ref), ingress: [], virtualServices: [], events: [] };
        objects.set(key, s);
      }
      if (!s.events.some((e) => sameEvent(e, event))) s.events.push({ type: event.type, reason: event.reason, message: event.message });
    },
    list() {
      return [...objects.values()].sort(byRef).map((s) => structuredClone(s));
    },
    async crdStatus(ref, status) {
      verdicts.set(statusKey(ref), { ref: structuredClone(ref), status: status.status, error: status.error ?? '' });
    },
    crdStatuses() {
      return [...verdicts.values()].sort(byRef).map((v) => structuredClone(v));
    },
    get(ref) {
      const s = objects.get(statusKey(ref));
      return s && structuredClone(s);
    },
  };
}
