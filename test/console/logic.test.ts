// The console's pure logic, loaded from console/src as the browser loads it: which field a server
// message is about, text ⇄ API value codecs, path updates, network usage, refs rewritten for writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

const src = (file: string) => import(new URL(`../../../console/src/${file}`, import.meta.url).href);

describe('console logic', () => {
  it('puts a server message on the field it names (longest key wins)', async () => {
    const { fieldForMessage } = await src('errors.js');
    const specs = [
      { key: 'name', aliases: ['already exists'] },
      { key: 'configured_subnets', aliases: ['static_ip_ranges'] },
      { key: 'internal_profile.usable_networks' },
      { key: 'vrf_context_ref' },
    ];
    const on = (m: string) => fieldForMessage(m, specs)?.key ?? null;
    assert.equal(on('configured_subnets[0].prefix.mask: 200 is out of range 0–128'), 'configured_subnets');
    assert.equal(on('configured_subnets[0].static_ip_ranges[0].range.begin: not in the subnet'), 'configured_subnets');
    assert.equal(on("network 'x' already exists"), 'name');
    assert.equal(on('name: required field is missing'), 'name');
    assert.equal(on('internal_profile.usable_networks[0].nw_ref: Network object not found!'), 'internal_profile.usable_networks');
    assert.equal(on('No available free IPs in network local-vip'), null);
    // A key inside a longer word is not a mention.
    assert.equal(on('hostname: bad'), null);
  });

  it('places a message on the deepest field its path names', async () => {
    const { locateError } = await src('errors.js');
    const specs = [
      { key: 'name', aliases: ['already exists'] },
      { key: 'configured_subnets', type: 'rows', fields: [
        { key: 'prefix' },
        { key: 'static_ip_ranges', type: 'rows', fields: [{ key: 'range.begin' }, { key: 'range.end' }, { key: 'type' }] },
      ] },
    ];
    const draft = { name: 'n', configured_subnets: [{ prefix: {} }, { prefix: {}, static_ip_ranges: [{}, {}] }] };
    assert.equal(locateError('configured_subnets[0].prefix.mask: 200 is out of range 0–128', specs, draft), 'configured_subnets.0.prefix');
    assert.equal(locateError('configured_subnets[1].static_ip_ranges[1].range.begin.addr: bad IP', specs, draft), 'configured_subnets.1.static_ip_ranges.1.range.begin');
    assert.equal(locateError('configured_subnets[1].static_ip_ranges[1]: overlaps network x', specs, draft), 'configured_subnets.1.static_ip_ranges');
    assert.equal(locateError('configured_subnets[5].prefix: no such row rendered', specs, draft), 'configured_subnets');
    assert.equal(locateError("network 'n' already exists", specs, draft), 'name');
    assert.equal(locateError('No available free IPs', specs, draft), null);
  });

  it('turns typed text into API values and back', async () => {
    const { ipCodec, prefixCodec, labelsCodec, markersCodec, linesCodec, jsonCodec } = await src('codecs.js');
    assert.deepEqual(prefixCodec.fromText('10.22.13.0/24'), { ip_addr: { addr: '10.22.13.0', type: 'V4' }, mask: 24 });
    assert.equal(prefixCodec.toText({ ip_addr: { addr: '10.22.13.0', type: 'V4' }, mask: 24 }), '10.22.13.0/24');
    assert.deepEqual(ipCodec.fromText(' fd00::1 '), { addr: 'fd00::1', type: 'V6' });
    assert.equal(ipCodec.fromText('  '), undefined);
    assert.deepEqual(labelsCodec.fromText('clustername=c1\n\nenv'), [{ key: 'clustername', value: 'c1' }, { key: 'env' }]);
    assert.deepEqual(markersCodec.fromText('Namespace=default, prod'), [{ key: 'Namespace', values: ['default', 'prod'] }]);
    assert.equal(markersCodec.toText([{ key: 'clustername', values: ['c1'] }]), 'clustername=c1');
    assert.deepEqual(linesCodec.fromText('a\n b \n'), ['a', 'b']);
    assert.deepEqual(jsonCodec.fromText('{"rules": []}'), { rules: [] });
    assert.equal(jsonCodec.fromText('{oops'), '{oops', 'bad JSON goes to the server as typed, which names the field');
  });

  it('updates nested paths without touching the original and prunes blanks', async () => {
    const { getPath, setPath, prune } = await src('paths.js');
    const a = { name: 'x', internal_profile: { ttl: 30 } };
    const b = setPath(a, 'internal_profile.usable_networks', [{ nw_ref: '/api/network/n1' }]);
    assert.deepEqual(a, { name: 'x', internal_profile: { ttl: 30 } });
    assert.deepEqual(getPath(b, 'internal_profile.usable_networks'), [{ nw_ref: '/api/network/n1' }]);
    assert.deepEqual(prune({ name: 'x', description: '', mtu: Number.NaN, http_profile: { x: undefined }, ok: false, n: 0 }), { name: 'x', ok: false, n: 0 });
  });

  it('counts used and free VIP addresses of a network', async () => {
    const { networkUsage } = await src('netusage.js');
    const v4 = (addr: string) => ({ addr, type: 'V4' });
    const net = { uuid: 'network-1', configured_subnets: [{ prefix: { ip_addr: v4('10.0.0.0'), mask: 24 },
      static_ip_ranges: [{ range: { begin: v4('10.0.0.61'), end: v4('10.0.0.70') } }] }] };
    const vsvips = [
      { vip: [{ ip_address: v4('10.0.0.61'), ipam_network_subnet: { network_ref: 'https://c/api/network/network-1#n' } }] },
      { vip: [{ ip_address: v4('10.0.0.62') }] },
      { vip: [{ ip_address: v4('10.0.0.62') }] }, // a shared VIP counts once
      { vip: [{ ip_address: v4('10.0.0.99') }] }, // outside the ranges
      { vip: [{ ip_address: v4('10.0.0.63'), ipam_network_subnet: { network_ref: 'https://c/api/network/network-2#other' } }] },
    ];
    assert.deepEqual(networkUsage(net, vsvips), { used: 2, total: 10 });
  });

  it('writes refs back as relative UUID refs, without the #name', async () => {
    const { writeRefs, apiPath } = await src('api.js');
    const obj = { name: 'vs', pool_ref: 'https://127.0.0.1:9080/api/pool/pool-1#web', members: [{ pool_ref: 'http://h/api/pool/pool-2#a' }],
      vsvip_ref: '/api/vsvip?name=v', note: 'see https://example.com/docs' };
    assert.deepEqual(writeRefs(obj), { name: 'vs', pool_ref: '/api/pool/pool-1', members: [{ pool_ref: '/api/pool/pool-2' }],
      vsvip_ref: '/api/vsvip?name=v', note: 'see https://example.com/docs' });
    assert.equal(apiPath('https://c:1/api/pool?page=2&page_size=1'), '/api/pool?page=2&page_size=1');
  });

  it('reads refs, formats rates and ports', async () => {
    const { refName, refUuid, refType } = await src('refs.js');
    const { fmtBits, fmtRate, portsText } = await src('format.js');
    assert.equal(refName('https://c/api/pool/pool-1#web%20a'), 'web a');
    assert.equal(refUuid('https://c/api/pool/pool-1/#web'), 'pool-1');
    assert.equal(refType('https://c/api/serviceenginegroup/serviceenginegroup-1'), 'serviceenginegroup');
    assert.equal(fmtBits(1_900_000), '1.9 Mbps');
    assert.equal(fmtRate(117.4), '117/s');
    assert.equal(portsText([{ port: 80 }, { port: 443, enable_ssl: true }, { port: 8000, port_range_end: 8010 }]), '80, 443 (TLS), 8000-8010');
    assert.equal(portsText([{ port: 53, override_network_profile_ref: 'https://c/api/networkprofile/networkprofile-1#System-UDP-Fast-Path' }, { port: 53 }],
      'https://c/api/networkprofile/networkprofile-2#System-TCP-Proxy'), '53/udp, 53/tcp');
    assert.equal(portsText([{ port: 53 }], 'https://c/api/networkprofile/networkprofile-1#System-UDP-Fast-Path'), '53/udp');
  });

  it('reads pool and SE health from the runtime shapes controllers answer with', async () => {
    const { poolHealth, seNames } = await src('vsdata.js');
    const flat = { se_list: [{ se_uuid: 'se-1', se_name: 'avi_k8s-se-1', connected: true }],
      servers: [{ pool_uuid: 'pool-1', ip: '10.0.0.1', port: 80, state: 'UP' }, { pool_uuid: 'pool-1', ip: '10.0.0.2', port: 80, state: 'DOWN', reason: 'connect ECONNREFUSED' },
        { pool_uuid: 'pool-2', ip: '10.0.0.3', port: 80, state: 'DOWN' }] };
    const h = poolHealth(flat);
    assert.deepEqual([h.poolsUp, h.poolsTotal, h.serversUp, h.serversTotal], [1, 2, 1, 3]);
    assert.equal(h.pools[0].servers[1].reason, 'connect ECONNREFUSED');
    assert.deepEqual(seNames(flat), ['avi_k8s-se-1']);
    const avi = { vip_summary: [{ service_engine: [{ url: 'https://c/api/serviceengine/se-2#Avi-se-2' }] }],
      pools: [{ uuid: 'pool-9', num_servers: 4, num_servers_up: 0, servers: [] }] };
    const h2 = poolHealth(avi);
    assert.deepEqual([h2.poolsUp, h2.poolsTotal, h2.serversUp, h2.serversTotal], [0, 1, 0, 4]);
    assert.deepEqual(seNames(avi), ['Avi-se-2']);
    assert.deepEqual(poolHealth(null).poolsTotal, 0);
    const { nameUuids } = await src('vsdata.js');
    const names = new Map([['pool-6007a0d8-f566-4a00-a0ee-e087edb888dd', 'web-app-pool']]);
    assert.equal(nameUuids('se-1: no server up in pool pool-6007a0d8-f566-4a00-a0ee-e087edb888dd', names), 'se-1: no server up in pool web-app-pool');
    assert.equal(nameUuids('pool pool-00000000-0000-4000-8000-000000000000 gone', names), 'pool pool-00000000-0000-4000-8000-000000000000 gone');
  });

  it('runs at most N calls at once and keeps the order', async () => {
    const { mapLimit } = await src('vsdata.js');
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (x: number) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return x * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30, 0, 60]);
    assert.equal(peak, 3);
    assert.deepEqual(await mapLimit([], 3, async () => 1), []);
  });

  it('turns cumulative SE counters into rates, surviving a counter reset', async () => {
    const { recordCounters, derivedSeries } = await src('rates.js');
    const { METRICS } = await src('vsdata.js');
    const c = (requests: number, bytes: number, lat: number, n: number) => ({ requests, bytes_in: bytes, bytes_out: 0, latency_ms_sum: lat, latency_count: n, responses_5xx: 0 });
    recordCounters('vs-1', c(100, 1000, 50, 10), 1_000);
    recordCounters('vs-1', c(300, 3000, 250, 110), 3_000);
    recordCounters('vs-1', c(10, 500, 20, 10), 4_000); // the SE restarted
    const s = derivedSeries('vs-1', METRICS);
    assert.deepEqual(s[METRICS.requests].map((p: any) => p.value), [100, 10]);
    assert.deepEqual(s[METRICS.bandwidth].map((p: any) => p.value), [8000, 4000]);
    assert.deepEqual(s[METRICS.latency].map((p: any) => p.value), [2, 2]);
    assert.equal(derivedSeries('vs-unknown', METRICS)[METRICS.requests].length, 0);
  });
});
