// The DNS virtual service over UDP and TCP: A/AAAA for registered names with their TTL,
// NXDOMAIN under the profile's domains, REFUSED for anything else, and malformed input.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { SnapshotBuilder, silentLog } from './support.js';

const VIP = '127.21.4.1';
const PORT = 9153;
let rt: EngineRuntime;
let s: SnapshotBuilder;

before(async () => {
  s = new SnapshotBuilder();
  s.add('virtualservice', { name: 'local-dns-vs', enabled: true, vsvip_ref: s.vsvip(VIP), application_profile_ref: s.dnsProfile, network_profile_ref: s.udpProfile, services: [{ port: PORT, port_range_end: PORT }] });
  s.dns = { domains: ['portico.local'], records: [{ fqdn: 'web.portico.local', addresses: ['127.77.0.5', '::1'], ttl: 42 }] };
  rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  await rt.apply(s.build());
});
after(() => rt.stop(100));

function udpQuery(name: string, type: 'A' | 'AAAA' | 'MX' = 'A'): Promise<dnsPacket.DecodedPacket & { rcode?: string }> {
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no answer')), 3000);
    sock.on('message', (m) => {
      clearTimeout(t);
      sock.close();
      resolve(dnsPacket.decode(m) as dnsPacket.DecodedPacket & { rcode?: string });
    });
    sock.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), PORT, VIP);
  });
}

test('A and AAAA answers with the record TTL, case-insensitive names', async () => {
  const a = await udpQuery('Web.Portico.Local');
  assert.equal(a.rcode, 'NOERROR');
  assert.deepEqual(a.answers!.map((x) => [x.type, (x as { data: string }).data, (x as { ttl?: number }).ttl]), [['A', '127.77.0.5', 42]]);
  const aaaa = await udpQuery('web.portico.local', 'AAAA');
  assert.deepEqual(aaaa.answers!.map((x) => (x as { data: string }).data), ['::1']);
  const mx = await udpQuery('web.portico.local', 'MX');
  assert.equal(mx.rcode, 'NOERROR');
  assert.equal(mx.answers!.length, 0);
});

test('NXDOMAIN under the domains, REFUSED elsewhere (no open resolver)', async () => {
  assert.equal((await udpQuery('nope.portico.local')).rcode, 'NXDOMAIN');
  assert.equal((await udpQuery('example.com')).rcode, 'REFUSED');
  assert.equal((await udpQuery('portico.local.evil.com')).rcode, 'REFUSED');
});

test('TCP with two queries on one connection', async () => {
  const answers = await new Promise<dnsPacket.DecodedPacket[]>((resolve, reject) => {
    const c = net.connect(PORT, VIP);
    const out: dnsPacket.DecodedPacket[] = [];
    let buf = Buffer.alloc(0);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        if (out.length === 2) {
          c.end();
          resolve(out);
        }
      }
    });
    c.on('error', reject);
    c.write(dnsPacket.streamEncode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'web.portico.local' }] }));
    c.write(dnsPacket.streamEncode({ type: 'query', id: 2, questions: [{ type: 'A', name: 'x.example.org' }] }));
  });
  assert.equal((answers[0].answers![0] as { data: string }).data, '127.77.0.5');
  assert.equal((answers[1] as { rcode?: string }).rcode, 'REFUSED');
});

test('garbage does not crash; records change with a new snapshot', async () => {
  const sock = dgram.createSocket('udp4');
  const reply = new Promise<Buffer>((r) => sock.on('message', (m) => r(m)));
  sock.send(Buffer.from([0xab, 0xcd, 0xff]), PORT, VIP);
  const m = await reply;
  sock.close();
  assert.equal(m.readUInt16BE(0), 0xabcd);
  assert.equal((dnsPacket.decode(m) as { rcode?: string }).rcode, 'FORMERR');
  s.dns = { domains: ['portico.local'], records: [{ fqdn: 'new.portico.local', addresses: ['127.77.0.9'], ttl: 30 }] };
  const r = await rt.apply(s.build());
  assert.equal(r.opened + r.closed, 0, 'the DNS listeners stay');
  assert.equal((await udpQuery('new.portico.local')).answers!.length, 1);
  assert.equal((await udpQuery('web.portico.local')).rcode, 'NXDOMAIN');
});
