// What `portico up` and `portico status` print: the VIP table and one line per change.

/** One item of `portico status -o json` (shared/design/INTERFACES.md). */
export interface StatusItem {
  kind: string;
  namespace: string;
  name: string;
  loadBalancer: { ingress: Array<{ ip: string; hostname?: string }> };
  virtualServices: string[];
  events: Array<{ type: string; reason: string; message: string }>;
  /** Ports (Services) or hosts (Ingresses), when the operator says. */
  ports?: string[];
  hosts?: string[];
}

export async function fetchStatus(operatorUrl: string): Promise<StatusItem[]> {
  const res = await fetch(`${operatorUrl}/api/status`);
  if (!res.ok) throw new Error(`operator ${operatorUrl}: ${res.status}`);
  const body = (await res.json()) as { items?: StatusItem[] };
  return body.items ?? [];
}

function key(i: StatusItem): string {
  return `${i.kind} ${i.namespace}/${i.name}`;
}

function vips(i: StatusItem): string {
  return i.loadBalancer.ingress.map((x) => x.ip).filter((v, n, a) => a.indexOf(v) === n).join(',');
}

function lastWarning(i: StatusItem): string | undefined {
  const w = i.events.filter((e) => e.type === 'Warning').at(-1);
  return w ? `${w.reason}: ${w.message}` : undefined;
}

/** The table of `portico status` and of `portico up`'s banner. */
export function formatTable(items: StatusItem[]): string {
  const rows = [['KIND', 'NAMESPACE', 'NAME', 'VIP', 'PORTS/HOSTS', 'STATE', 'WARNING']];
  for (const i of [...items].sort((a, b) => key(a).localeCompare(key(b)))) {
    const hosts = i.hosts ?? i.loadBalancer.ingress.map((x) => x.hostname).filter((h): h is string => !!h);
    const detail = (i.ports?.length ? i.ports : hosts).join(',');
    const warning = lastWarning(i);
    const state = i.loadBalancer.ingress.length > 0 ? 'Ready' : 'Pending';
    rows.push([i.kind, i.namespace, i.name, vips(i) || '-', detail || '-', state, warning ?? '']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/** Compares successive status lists and says what changed, one line each. */
export class StatusReporter {
  private last = new Map<string, StatusItem>();

  diff(items: StatusItem[]): string[] {
    const lines: string[] = [];
    const now = new Map(items.map((i) => [key(i), i]));
    for (const [k, i] of now) {
      const before = this.last.get(k);
      const v = vips(i);
      if (v && (!before || vips(before) !== v)) lines.push(`+ ${k}: VIP ${v}${hostsSuffix(i)}`);
      const w = lastWarning(i);
      if (w && (!before || lastWarning(before) !== w)) lines.push(`! ${k}: ${w}`);
      if (!v && before && vips(before)) lines.push(`- ${k}: VIP released`);
    }
    for (const k of this.last.keys()) if (!now.has(k)) lines.push(`- ${k}: removed`);
    this.last = now;
    return lines;
  }
}

function hostsSuffix(i: StatusItem): string {
  const hosts = i.loadBalancer.ingress.map((x) => x.hostname).filter(Boolean);
  return hosts.length ? ` (${hosts.join(', ')})` : '';
}
