// Routing on a parent VS: child by Host, httppolicysets in index order, rules in index order,
// matches (path criteria and case, host, vs_port, method, headers), actions (pool, poolgroup,
// redirect, local response, header add/replace/remove), default pool, 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { startBackend, startProxy, poolOf, request, type Backend, type Proxy } from './support.js';

const PARENT = 'virtualservice-parent';
let a: Backend;
let b: Backend;
let c: Backend;
let proxy: Proxy;
const agent = new Agent({ keepAlive: true });

const path = (criteria: string, strs: string[], match_case = 'SENSITIVE') => ({ path: { match_criteria: criteria, match_case, match_str: strs } });
const toPool = (pool: string) => ({ action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: pool });

function objects(): Record<string, any>[] {
  return [
    {
      uuid: PARENT,
      name: 'parent',
      type: 'VS_TYPE_VH_PARENT',
      services: [{ port: 8080 }],
      // Listed out of order on purpose: index decides.
      http_policies: [
        { index: 20, http_policy_set_ref: 'httppolicyset-late' },
        { index: 11, http_policy_set_ref: 'httppolicyset-early' },
      ],
      pool_ref: 'pool-a',
    },
    {
      uuid: 'virtualservice-child',
      name: 'child',
      type: 'VS_TYPE_VH_CHILD',
      vh_parent_vs_ref: PARENT,
      vh_domain_name: ['child.example.com'],
      http_policies: [{ index: 11, http_policy_set_ref: 'httppolicyset-child' }],
    },
    {
      uuid: 'httppolicyset-early',
      name: 'early',
      http_request_policy: {
        rules: [
          { name: 'second', index: 2, enable: true, match: path('BEGINS_WITH', ['/order']), switching_action: toPool('pool-c') },
          { name: 'first', index: 1, enable: true, match: path('BEGINS_WITH', ['/order/x']), switching_action: toPool('pool-b') },
          { name: 'off', index: 0, enable: false, match: path('BEGINS_WITH', ['/order']), switching_action: toPool('pool-a') },
          {
            name: 'redirect',
            index: 3,
            enable: true,
            match: { host_hdr: { match_criteria: 'HDR_EQUALS', value: ['secure.example.com'] }, vs_port: { match_criteria: 'IS_IN', ports: [8080] } },
            redirect_action: { protocol: 'HTTPS', port: 443, status_code: 'HTTP_REDIRECT_STATUS_CODE_302' },
          },
          {
            name: 'moved',
            index: 4,
            enable: true,
            match: path('EQUALS', ['/old']),
            redirect_action: {
              protocol: 'HTTP',
              port: 8081,
              status_code: 'HTTP_REDIRECT_STATUS_CODE_301',
              keep_query: false,
              host: { type: 'URI_PARAM_TYPE_TOKENIZED', tokens: [{ type: 'URI_TOKEN_TYPE_STRING', str_value: 'new.example.com' }] },
              path: { type: 'URI_PARAM_TYPE_TOKENIZED', tokens: [{ type: 'URI_TOKEN_TYPE_STRING', str_value: 'new' }] },
            },
          },
          { name: 'perm', index: 5, enable: true, match: path('EQUALS', ['/perm']), redirect_action: { protocol: 'HTTP', status_code: 'HTTP_REDIRECT_STATUS_CODE_308' } },
          {
            name: 'local',
            index: 6,
            enable: true,
            match: path('ENDS_WITH', ['.txt'], 'INSENSITIVE'),
            switching_action: { action: 'HTTP_SWITCHING_SELECT_LOCAL', status_code: 'HTTP_LOCAL_RESPONSE_STATUS_CODE_403', file: { content_type: 'text/plain', file_content: 'no text files' } },
          },
          { name: 'regex', index: 7, enable: true, match: path('REGEX_MATCH', ['^/items/[0-9]+$']), switching_action: toPool('pool-b') },
          { name: 'notcontain', index: 8, enable: true, match: path('DOES_NOT_CONTAIN', ['api', 'items', 'order', 'hdr', 'm', 'pg', 'x'], 'INSENSITIVE'), switching_action: toPool('pool-c') },
          {
            name: 'method',
            index: 9,
            enable: true,
            match: { ...path('BEGINS_WITH', ['/m']), method: { match_criteria: 'IS_IN', methods: ['HTTP_METHOD_DELETE'] } },
            switching_action: toPool('pool-b'),
          },
          {
            name: 'header',
            index: 10,
            enable: true,
            match: { ...path('BEGINS_WITH', ['/hdr']), hdrs: [{ hdr: 'X-Canary', match_criteria: 'HDR_EQUALS', value: ['yes'] }] },
            switching_action: toPool('pool-c'),
          },
          { name: 'pg', index: 11, enable: true, match: path('BEGINS_WITH', ['/pg']), switching_action: { action: 'HTTP_SWITCHING_SELECT_POOLGROUP', pool_group_ref: 'poolgroup-bc' } },
        ],
      },
    },
    {
      uuid: 'httppolicyset-late',
      name: 'late',
      http_request_policy: {
        rules: [
          {
            name: 'headers',
            index: 0,
            enable: true,
            match: path('BEGINS_WITH', ['/x']),
            hdr_action: [
              { action: 'HTTP_ADD_HDR', hdr: { name: 'X-Added', value: { val: 'one' } } },
              { action: 'HTTP_REPLACE_HDR', hdr: { name: 'Host', value: { val: 'rewritten.internal' } } },
              { action: 'HTTP_REMOVE_HDR', hdr: { name: 'X-Secret' } },
            ],
          },
          { name: 'api-ci', index: 1, enable: true, match: path('CONTAINS', ['/API/'], 'INSENSITIVE'), switching_action: toPool('pool-b') },
        ],
      },
    },
    {
      uuid: 'httppolicyset-child',
      name: 'child',
      http_request_policy: { rules: [{ name: 'child-api', index: 0, enable: true, match: path('BEGINS_WITH', ['/child-api']), switching_action: toPool('pool-c') }] },
    },
    { uuid: 'poolgroup-bc', name: 'bc', members: [{ pool_ref: 'pool-b', ratio: 1 }, { pool_ref: 'pool-c', ratio: 1 }] },
    poolOf('pool-a', [a]),
    poolOf('pool-b', [b]),
    poolOf('pool-c', [c]),
  ];
}

before(async () => {
  a = await startBackend('a');
  b = await startBackend('b');
  c = await startBackend('c');
  proxy = await startProxy(objects(), PARENT);
});

after(async () => {
  agent.destroy();
  await proxy?.close();
  await Promise.all([a, b, c].map((x) => x?.close()));
});

async function backendOf(p: string, opts: Parameters<typeof request>[1] = {}): Promise<string> {
  const r = await request(`${proxy.url}${p}`, { agent, ...opts });
  assert.equal(r.status, 200, `${p}: ${r.status} ${r.body}`);
  return r.json().backend;
}

test('policy sets by index, rules by index, disabled rules skipped, default pool last', { timeout: 60_000 }, async () => {
  assert.equal(await backendOf('/order/x/1'), 'b');
  assert.equal(await backendOf('/order/y'), 'c');
  assert.equal(await backendOf('/items/42'), 'b');
  assert.equal(await backendOf('/items/4x2'), 'a');
  assert.equal(await backendOf('/elsewhere'), 'c'); // DOES_NOT_CONTAIN
  assert.equal(await backendOf('/v1/Api/z'), 'b'); // CONTAINS, case-insensitive, in the later set
});

test('method, header, and pool group matches', { timeout: 60_000 }, async () => {
  assert.equal(await backendOf('/m', { method: 'DELETE' }), 'b');
  assert.equal(await backendOf('/m'), 'a');
  assert.equal(await backendOf('/hdr', { headers: { 'x-canary': 'YES' } }), 'c');
  assert.equal(await backendOf('/hdr'), 'a');
  const seen = new Set([await backendOf('/pg'), await backendOf('/pg'), await backendOf('/pg')]);
  assert.deepEqual([...seen].sort(), ['b', 'c']);
});

test('redirects: protocol, host, port, path, query kept or dropped, status codes', { timeout: 60_000 }, async () => {
  const r1 = await request(`${proxy.url}/login?next=/home`, { agent, headers: { host: 'secure.example.com' } });
  assert.equal(r1.status, 302);
  assert.equal(r1.headers.location, 'https://secure.example.com/login?next=/home');
  assert.equal(r1.headers.server, 'Portico');
  assert.equal(r1.headers['content-length'], '0');
  const r2 = await request(`${proxy.url}/old?q=1`, { agent });
  assert.equal(r2.status, 301);
  assert.equal(r2.headers.location, 'http://new.example.com:8081/new');
  const r3 = await request(`${proxy.url}/perm?a=b`, { agent, headers: { host: 'h.example.com:8080' } });
  assert.equal(r3.status, 308);
  assert.equal(r3.headers.location, 'http://h.example.com:8080/perm?a=b');
});

test('local response and header actions', { timeout: 60_000 }, async () => {
  const r = await request(`${proxy.url}/README.TXT`, { agent });
  assert.equal(r.status, 403);
  assert.equal(r.body.toString(), 'no text files');
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.ok(r.headers.date);
  const h = await request(`${proxy.url}/x`, { agent, headers: { 'x-secret': 's', host: 'orig.example.com' } });
  const j = h.json();
  assert.equal(j.headers['x-added'], 'one');
  assert.equal(j.headers.host, 'rewritten.internal');
  assert.equal(j.headers['x-secret'], undefined);
});

test('Host selects the child; the child routes by its own policies; no pool anywhere → 404', { timeout: 60_000 }, async () => {
  assert.equal(await backendOf('/child-api/v1', { headers: { host: 'child.example.com' } }), 'c');
  // The child has no default pool: the parent's default applies.
  assert.equal(await backendOf('/other-x', { headers: { host: 'child.example.com:8080' } }), 'a');
  const objs = objects();
  delete objs[0].pool_ref;
  proxy.update(objs);
  try {
    const r = await request(`${proxy.url}/xnowhere`, { agent, headers: { host: 'child.example.com' } });
    assert.equal(r.status, 404);
  } finally {
    proxy.update(objects());
  }
});

test('http_to_https in the application profile redirects plain requests', { timeout: 60_000 }, async () => {
  const objs = objects();
  objs[0].application_profile_ref = 'applicationprofile-secure';
  objs.push({ uuid: 'applicationprofile-secure', name: 'System-Secure-HTTP', type: 'APPLICATION_PROFILE_TYPE_HTTP', http_profile: { http_to_https: true } });
  proxy.update(objs);
  try {
    const r = await request(`${proxy.url}/p?q=1`, { agent, headers: { host: 'www.example.com:8080' } });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'https://www.example.com/p?q=1');
  } finally {
    proxy.update(objects());
  }
});

test('a security rule closes the connection', { timeout: 60_000 }, async () => {
  const objs = objects();
  objs.push({
    uuid: 'httppolicyset-block',
    name: 'block',
    http_security_policy: { rules: [{ name: 'block', index: 0, enable: true, match: { vs_port: { match_criteria: 'IS_IN', ports: [8080] }, ...path('BEGINS_WITH', ['/blocked']) }, action: { action: 'HTTP_SECURITY_ACTION_CLOSE_CONN' } }] },
  });
  objs[0].http_policies.push({ index: 1, http_policy_set_ref: 'httppolicyset-block' });
  proxy.update(objs);
  try {
    await assert.rejects(request(`${proxy.url}/blocked`, { agent: false }));
    assert.equal((await request(`${proxy.url}/fine`, { agent: false })).status, 200);
  } finally {
    proxy.update(objects());
  }
});
