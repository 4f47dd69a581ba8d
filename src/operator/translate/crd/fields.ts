// Reading a CRD spec field by field: wrong types become one message naming the field (the
// object is Rejected with it), and every controller object named is recorded for the check.
import type { RefNeed } from './types.js';

export class SpecReader {
  problems: string[] = [];
  refs: RefNeed[] = [];
  /** Fields accepted and stored but not applied by the data plane (for the status). */
  ignored: string[] = [];

  constructor(readonly base: string) {}

  private bad(field: string, want: string, v: unknown): undefined {
    this.problems.push(`${field}: expected ${want}, got ${JSON.stringify(v)}`);
    return undefined;
  }

  obj(v: unknown, field: string): Record<string, unknown> | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) return this.bad(field, 'an object', v);
    return v as Record<string, unknown>;
  }

  str(v: unknown, field: string, required = false): string | undefined {
    if (v === undefined || v === null || v === '') {
      if (required) this.problems.push(`${field} is required`);
      return undefined;
    }
    if (typeof v !== 'string') return this.bad(field, 'a string', v);
    return v;
  }

  bool(v: unknown, field: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.bad(field, 'true or false', v);
    return v;
  }

  int(v: unknown, field: string, min: number, max: number, required = false): number | undefined {
    if (v === undefined || v === null) {
      if (required) this.problems.push(`${field} is required`);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return this.bad(field, `an integer ${min}-${max}`, v);
    return v;
  }

  oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T | undefined {
    const s = this.str(v, field);
    if (s === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(s)) return this.bad(field, `one of ${allowed.join(', ')}`, s);
    return s as T;
  }

  list(v: unknown, field: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) { this.bad(field, 'a list', v); return []; }
    return v;
  }

  strings(v: unknown, field: string): string[] {
    return this.list(v, field).map((x, i) => this.str(x, `${field}[${i}]`, true)).filter((x): x is string => x !== undefined);
  }

  /** A string naming a controller object of `type`: recorded so the controller is asked. */
  ref(v: unknown, field: string, type: string): string | undefined {
    const name = this.str(v, field);
    if (name !== undefined) this.refs.push({ type, name, field });
    return name;
  }

  refs_(v: unknown, field: string, type: string): string[] {
    return this.strings(v, field).map((name, i) => { this.refs.push({ type, name, field: `${field}[${i}]` }); return name; });
  }

  /** A field that is stored but has no effect in Portico's data plane. */
  ignore(v: unknown, field: string): void {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return;
    this.ignored.push(field);
  }
}

export const LB_ALGORITHMS = [
  'LB_ALGORITHM_LEAST_CONNECTIONS', 'LB_ALGORITHM_ROUND_ROBIN', 'LB_ALGORITHM_FASTEST_RESPONSE', 'LB_ALGORITHM_CONSISTENT_HASH',
  'LB_ALGORITHM_LEAST_LOAD', 'LB_ALGORITHM_FEWEST_SERVERS', 'LB_ALGORITHM_RANDOM', 'LB_ALGORITHM_FEWEST_TASKS',
  'LB_ALGORITHM_NEAREST_SERVER', 'LB_ALGORITHM_CORE_AFFINITY', 'LB_ALGORITHM_TOPOLOGY',
] as const;
export const LB_HASHES = [
  'LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS', 'LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT',
  'LB_ALGORITHM_CONSISTENT_HASH_URI', 'LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER', 'LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_STRING',
  'LB_ALGORITHM_CONSISTENT_HASH_CALLID',
] as const;

// What Portico's engines run (src/engine/lb); the others are stored and balanced with least connections.
const ENGINE_ALGORITHMS = new Set(['LB_ALGORITHM_LEAST_CONNECTIONS', 'LB_ALGORITHM_ROUND_ROBIN', 'LB_ALGORITHM_CONSISTENT_HASH', 'LB_ALGORITHM_RANDOM']);
const ENGINE_HASHES = new Set(['LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS', 'LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT', 'LB_ALGORITHM_CONSISTENT_HASH_URI', 'LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER']);

/** Load-balancing fields of a pool, checked together (a hash needs CONSISTENT_HASH, a custom header needs its name). */
export function lbFields(r: SpecReader, algorithm: unknown, hash: unknown, header: unknown, at: { algorithm: string; hash: string; header: string }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const a = r.oneOf(algorithm, at.algorithm, LB_ALGORITHMS);
  const h = r.oneOf(hash, at.hash, LB_HASHES);
  const hdr = r.str(header, at.header);
  if (a) out.lb_algorithm = a;
  if (a && !ENGINE_ALGORITHMS.has(a)) r.ignored.push(`${at.algorithm} ${a} (balanced with least connections)`);
  if (h && !ENGINE_HASHES.has(h)) r.ignored.push(`${at.hash} ${h} (hashed on the source IP)`);
  if (h) {
    if (a !== 'LB_ALGORITHM_CONSISTENT_HASH') r.problems.push(`${at.hash} needs ${at.algorithm} LB_ALGORITHM_CONSISTENT_HASH`);
    out.lb_algorithm_hash = h;
  }
  if (h === 'LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER') {
    if (!hdr) r.problems.push(`${at.header} is required with ${at.hash} LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER`);
    else out.lb_algorithm_consistent_hash_hdr = hdr;
  }
  return out;
}
