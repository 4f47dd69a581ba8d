// Answers for the DNS virtual service: A/AAAA for the snapshot's records, NXDOMAIN (with no
// data) for other names under the DNS profile's domains, REFUSED for anything else, so the
// SE is never an open resolver.
import net from 'node:net';
import dnsPacket, { type Packet, type Answer } from 'dns-packet';
import type { DnsRecord } from '../snapshot.js';

interface Entry { v4: string[]; v6: string[]; ttl: number }

const lower = (n: string) => n.toLowerCase().replace(/\.$/, '');

export class DnsZone {
  private records = new Map<string, Entry>();
  private domains: string[] = [];

  update(domains: string[], records: DnsRecord[]): void {
    this.domains = domains.map(lower).filter(Boolean);
    const next = new Map<string, Entry>();
    for (const r of records) {
      const name = lower(r.fqdn);
      const e = next.get(name) ?? { v4: [], v6: [], ttl: Number(r.ttl) > 0 ? Number(r.ttl) : 30 };
      for (const a of r.addresses) {
        if (net.isIPv4(a)) e.v4.push(a);
        else if (net.isIPv6(a)) e.v6.push(a);
      }
      next.set(name, e);
    }
    this.records = next;
  }

  private inDomains(name: string): boolean {
    return this.domains.some((d) => name === d || name.endsWith(`.${d}`));
  }

  /** The response to one query message; undefined when the message cannot even be parsed. */
  answer(msg: Buffer): Buffer | undefined {
    let q: Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      // Unparseable: answer FORMERR when at least the ID is there.
      if (msg.length < 2) return undefined;
      return dnsPacket.encode({ type: 'response', id: msg.readUInt16BE(0), flags: 1 /* FORMERR */ });
    }
    if (q.type !== 'query') return undefined;
    const question = q.questions?.[0];
    const qtype = question?.type as string | undefined;
    const rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const base = { type: 'response' as const, id: q.id ?? 0, questions: q.questions ?? [] };
    if (!question || q.questions!.length !== 1) return dnsPacket.encode({ ...base, flags: rd | 1 /* FORMERR */ });
    const name = lower(question.name);
    const entry = this.records.get(name);
    const aa = dnsPacket.AUTHORITATIVE_ANSWER | rd;
    if (entry) {
      const answers: Answer[] = [];
      if (qtype === 'A' || qtype === 'ANY') for (const a of entry.v4) answers.push({ type: 'A', name: question.name, ttl: entry.ttl, data: a });
      if (qtype === 'AAAA' || qtype === 'ANY') for (const a of entry.v6) answers.push({ type: 'AAAA', name: question.name, ttl: entry.ttl, data: a });
      // Other types of a known name: NOERROR with no data.
      return dnsPacket.encode({ ...base, flags: aa, answers });
    }
    if (this.inDomains(name)) return dnsPacket.encode({ ...base, flags: aa | 3 /* NXDOMAIN */ });
    return dnsPacket.encode({ ...base, flags: rd | 5 /* REFUSED */ });
  }
}
