// A real SE joined to a real controller, driven through the REST API: per-pool and per-server
// metrics from real traffic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { httpBackend, until, type Backend } from './support.js';
import { startJoinedSe, type JoinedSe } from './joined.js';

const NET = '127.102.1';
let j: JoinedSe;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

before(async () => {
  j = await startJoinedSe(NET);
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await j?.stop();
});

function get(host: string, port: number, path = '/'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

async function scrape(): Promise<string> {
  return (await fetch(`${j.metricsUrl}/metrics`)).text();
}

/** The value of one sample line, by metric name and exact label set as Prometheus prints it. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function vip(name: string): Promise<{ uuid: string; addr: string }> {
  const v = await j.create('vsvip', { name, vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  return { uuid: v.uuid, addr: v.vip[0].ip_address.addr };
}

test('GET /metrics: latency histogram, responses by class and bytes per VS, pool and server', async () => {
  const ok = await httpBackend(`${NET}.11`, 'ok');
  const notFound = await httpBackend(`${NET}.12`, 'nf', 404);
  cleanups.push(() => ok.close(), () => notFound.close());
  const servers = [ok, notFound] as Backend[];
  const pool = await j.create('pool', { name: 'm-pool', lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', servers: servers.map((b) => ({ ip: { addr: b.ip, type: 'V4' }, port: b.port })) });
  const v = await vip('m-vip');
  const vs = await j.create('virtualservice', { name: 'm-vs', vsvip_ref: `/api/vsvip/${v.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 8080 }] });
  await until('VS up', async () => (await j.vsRuntime(vs.uuid)).oper_status.state === 'OPER_UP', 15_000);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await get(v.addr, 8080)).status);
  assert.deepEqual(statuses.sort(), [200, 200, 200, 404, 404, 404]);

  const text = await until('6 requests observed', async () => {
    const t = await scrape();
    return sample(t, 'portico_pool_latency_seconds_count', `pool="${pool.uuid}"`) === 6 ? t : undefined;
  });
  assert.equal(sample(text, 'portico_vs_latency_seconds_count', `vs="${vs.uuid}"`), 6);
  assert.equal(sample(text, 'portico_pool_latency_seconds_bucket', `pool="${pool.uuid}",le="+Inf"`), 6);
  for (const [b, cls] of [[ok, '2xx'], [notFound, '4xx']] as const) {
    const server = `pool="${pool.uuid}",server="${b.ip}:${b.port}"`;
    assert.equal(sample(text, 'portico_server_latency_seconds_count', server), 3, `${b.name} latency count`);
    assert.equal(sample(text, 'portico_server_latency_seconds_bucket', `${server},le="+Inf"`), 3);
    assert.ok(sample(text, 'portico_server_latency_seconds_sum', server)! > 0);
    assert.equal(sample(text, 'portico_server_requests_total', server), 3);
    assert.equal(sample(text, 'portico_server_responses_total', `${server},class="${cls}"`), 3);
    assert.ok(sample(text, 'portico_server_bytes_in_total', server)! > 0);
    assert.ok(sample(text, 'portico_server_bytes_out_total', server)! > 0);
  }
  assert.equal(sample(text, 'portico_pool_responses_total', `pool="${pool.uuid}",class="4xx"`), 3);
  assert.equal(sample(text, 'portico_pool_requests_total', `pool="${pool.uuid}"`), 6);
  // Buckets are cumulative and end at the count.
  const buckets = text.split('\n').filter((l) => l.startsWith('portico_pool_latency_seconds_bucket{') && l.includes(`pool="${pool.uuid}"`)).map((l) => Number(l.split(' ').at(-1)));
  assert.deepEqual([...buckets].sort((a, b) => a - b), buckets);
  assert.equal(buckets.at(-1), 6);
});

test('API: geo matches are refused naming the field; rewrite, Location and cookie actions are accepted', async () => {
  const geo = await j.api('POST', '/api/httppolicyset', { name: 'geo', http_request_policy: { rules: [{ name: 'g', index: 1, match: { geo_matches: [{ attribute: 'ATTR_COUNTRY', values: ['FR'] }] }, switching_action: { action: 'HTTP_SWITCHING_SELECT_LOCAL', status_code: 'HTTP_LOCAL_RESPONSE_STATUS_CODE_403' } }] } });
  assert.equal(geo.status, 400);
  assert.match(JSON.stringify(geo.body), /http_request_policy\.rules\[0\]\.match\.geo_matches: not supported: geo matching needs a geo database/);
  const badVar = await j.api('POST', '/api/httppolicyset', { name: 'v', http_request_policy: { rules: [{ name: 'v', index: 1, hdr_action: [{ action: 'HTTP_ADD_HDR', hdr: { name: 'X', value: { var: 'HTTP_POLICY_VAR_NOPE' } } }] }] } });
  assert.equal(badVar.status, 400);
  assert.match(JSON.stringify(badVar.body), /hdr_action\[0\]\.hdr\.value\.var/);
  const noProto = await j.api('POST', '/api/httppolicyset', { name: 'l', http_response_policy: { rules: [{ name: 'l', index: 1, loc_hdr_action: { port: 8443 } }] } });
  assert.equal(noProto.status, 400);
  assert.match(JSON.stringify(noProto.body), /loc_hdr_action\.protocol: required/);
  const tokens = { type: 'URI_PARAM_TYPE_TOKENIZED', tokens: [{ type: 'URI_TOKEN_TYPE_STRING', str_value: '/x' }] };
  await j.create('httppolicyset', {
    name: 'ok',
    http_request_policy: { rules: [{ name: 'r', index: 1, rewrite_url_action: { path: tokens, query: { keep_query: false } }, hdr_action: [{ action: 'HTTP_ADD_HDR', hdr: { name: 'Cookie' }, cookie: { name: 'c', value: 'v' } }, { action: 'HTTP_ADD_HDR', hdr: { name: 'X-IP', value: { var: 'HTTP_POLICY_VAR_CLIENT_IP' } } }] }] },
    http_response_policy: { rules: [{ name: 'l', index: 1, match: { loc_hdr: { match_criteria: 'HDR_CONTAINS', value: ['internal'] } }, loc_hdr_action: { protocol: 'HTTPS', path: tokens, keep_query: false } }] },
  });
});

test('port range: 3,000 ports of one L4 VS served through the API, then released', async () => {
  const { tcpBackend, tcpExchange } = await import('./support.js');
  const b = await tcpBackend(`${NET}.13`, 'r');
  cleanups.push(() => b.close());
  const pool = await j.create('pool', { name: 'r-pool', servers: [{ ip: { addr: b.ip, type: 'V4' }, port: b.port }] });
  const v = await vip('r-vip');
  const first = 20_000;
  const last = first + 2999;
  const vs = await j.create('virtualservice', {
    name: 'r-vs', vsvip_ref: `/api/vsvip/${v.uuid}`, pool_ref: `/api/pool/${pool.uuid}`,
    application_profile_ref: '/api/applicationprofile?name=System-L4-Application', network_profile_ref: '/api/networkprofile?name=System-TCP-Proxy',
    services: [{ port: first, port_range_end: last }],
  });
  await until('range VS up', async () => (await j.vsRuntime(vs.uuid)).oper_status.state === 'OPER_UP', 30_000);
  const ports = [first, first + 1, first + 1024, first + 1500, last - 1, last];
  for (let i = 0; i < 10; i++) ports.push(first + Math.floor(Math.random() * 3000));
  for (const p of ports) assert.match(await tcpExchange(v.addr, p, `p${p}`), new RegExp(`^r:p${p}`), `port ${p}`);
  assert.equal((await j.api('DELETE', `/api/virtualservice/${vs.uuid}`)).status, 204);
  const refused = (p: number) => tcpExchange(v.addr, p, 'x').then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  await until('range released', async () => (await refused(first)) && (await refused(last)) && (await refused(first + 1500)), 30_000);
});
