// The status sink of manifest mode: what the operator would write to Kubernetes, kept in memory
// for `portico status` (and /api/status). Events are de-duplicated; `set` replaces an object's
// events with the ones that still apply, so a fixed Warning disappears.
import type { ObjectRef, ObjectStatus, StatusEvent, StatusSink } from './types.js';

export interface MemoryStatusSink extends StatusSink {
  /** Every handled object, sorted by kind, namespace, name. */
  list(): ObjectStatus[];
  get(ref: ObjectRef): ObjectStatus | undefined;
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
  return {
    async set(status) {
      const copy = structuredClone(status);
      copy.events = uniqueEvents(copy.events ?? []);
      objects.set(statusKey(status.ref), copy);
    },
    async clear(ref) {
      objects.delete(statusKey(ref));
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
      return [...objects.values()]
        .sort((a, b) => a.ref.kind.localeCompare(b.ref.kind) || a.ref.namespace.localeCompare(b.ref.namespace) || a.ref.name.localeCompare(b.ref.name))
        .map((s) => structuredClone(s));
    },
    get(ref) {
      const s = objects.get(statusKey(ref));
      return s && structuredClone(s);
    },
  };
}
