// The web console in a real browser (Debian's Chromium via playwright-core) against a real
// controller: log in, do the AKO lab's controller setup click by click and check each object
// through the API, create a virtual service with the wizard and reach it over HTTP, watch a
// server go down on the dashboard, and see the server's message next to a bad field.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot, type Chromium } from './browser.js';
import { ADMIN_PASSWORD, byName, startController, startEngine, waitFor, type Controller } from './harness.js';

// The VIP subnet varies per run: two suites running at once on one machine (several people's
// `npm test`) would otherwise bind the same VIP:port through their engines.
const NET = 100 + (process.pid % 150);
const HOST = '127.50.7.1';
const BACKEND_HOST = `127.50.${NET}.20`;
const SUBNET = `127.50.${NET}.0`;
const RANGE = [`127.50.${NET}.61`, `127.50.${NET}.70`] as const;
const UI_TIMEOUT = 15_000;

const ipNum = (ip: string) => ip.split('.').reduce((n, x) => n * 256 + Number(x), 0);
const inRange = (ip: string) => ipNum(ip) >= ipNum(RANGE[0]) && ipNum(ip) <= ipNum(RANGE[1]);

async function submitAndWaitForList(page: Page, kind: string): Promise<void> {
  await page.getByRole('button', { name: /^(Create|Save)$/ }).click();
  await page.waitForURL(new RegExp(`#/list/${kind}$`), { timeout: UI_TIMEOUT });
}

describe('web console', { timeout: 240_000 }, () => {
  let ctl: Controller;
  let chrome: Chromium;
  let page: Page;
  let backend: Server | undefined;
  const engines: Array<{ stop(): Promise<void> }> = [];

  before(async () => {
    ctl = await startController(HOST);
    chrome = await launchChromium();
    page = await chrome.newPage({ width: 1280, height: 800 });
    page.setDefaultTimeout(UI_TIMEOUT);
    // Faster live refresh than the 5 s default, so the test waits less.
    await page.addInitScript("localStorage.setItem('portico.pollMs', '1000')");
  });

  after(async () => {
    await chrome?.close();
    for (const e of engines) await e.stop();
    if (backend) { backend.closeAllConnections(); backend.close(); }
    await ctl?.stop();
  });

  it('serves the console and refuses a wrong password, then logs in', async () => {
    await page.goto(`${ctl.origin}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Wrong username or password.').waitFor();
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Applications dashboard' }).waitFor();
    await page.getByLabel('Tenant').waitFor();
  });

  it('repeats the lab setup: VRF, network with a static VIP pool, IPAM and DNS profiles on the cloud, two SE groups', async () => {
    await page.goto(`${ctl.origin}/#/new/vrfcontext`);
    await page.getByLabel('Name *').fill('k8s-cluster-vrf');
    await page.getByLabel('Cloud').selectOption({ label: 'Default-Cloud' });
    await submitAndWaitForList(page, 'vrfcontext');
    const vrf = await byName(ctl, 'vrfcontext', 'k8s-cluster-vrf');
    assert.ok(vrf, 'VRF created');
    assert.match(vrf.cloud_ref, /#Default-Cloud$/);

    await page.goto(`${ctl.origin}/#/new/network`);
    await page.getByLabel('Name *').fill('k8s-vip-network');
    await page.getByLabel('Cloud').selectOption({ label: 'Default-Cloud' });
    await page.getByLabel('VRF context').selectOption({ label: 'k8s-cluster-vrf' });
    await page.getByRole('button', { name: 'Add subnet' }).click();
    await page.getByLabel('Prefix (CIDR) *').fill(`${SUBNET}/24`);
    await page.getByRole('button', { name: 'Add range' }).click();
    await page.getByLabel('First address').fill(RANGE[0]);
    await page.getByLabel('Last address').fill(RANGE[1]);
    await page.getByLabel('Used for').selectOption('STATIC_IPS_FOR_VIP');
    await submitAndWaitForList(page, 'network');
    const net = await byName(ctl, 'network', 'k8s-vip-network');
    assert.ok(net, 'network created');
    assert.match(net.vrf_context_ref, /#k8s-cluster-vrf$/);
    assert.equal(net.configured_subnets[0].prefix.ip_addr.addr, SUBNET);
    assert.equal(net.configured_subnets[0].prefix.mask, 24);
    const range = net.configured_subnets[0].static_ip_ranges[0];
    assert.deepEqual([range.range.begin.addr, range.range.end.addr, range.type], [...RANGE, 'STATIC_IPS_FOR_VIP']);
    await page.getByRole('row', { name: /k8s-vip-network/ }).getByText('0 / 10').waitFor();

    await page.goto(`${ctl.origin}/#/new/ipamdnsproviderprofile`);
    await page.getByLabel('Name *').fill('IPAM_Default');
    await page.getByLabel('Type *').selectOption('IPAMDNS_TYPE_INTERNAL');
    await page.getByLabel('k8s-vip-network').check();
    await page.getByLabel('Allocate IP in VRF').check();
    await submitAndWaitForList(page, 'ipamdnsproviderprofile');
    const ipam = await byName(ctl, 'ipamdnsproviderprofile', 'IPAM_Default');
    assert.equal(ipam.type, 'IPAMDNS_TYPE_INTERNAL');
    assert.equal(ipam.allocate_ip_in_vrf, true);
    assert.match(ipam.internal_profile.usable_networks[0].nw_ref, /#k8s-vip-network$/);

    await page.goto(`${ctl.origin}/#/new/ipamdnsproviderprofile`);
    await page.getByLabel('Name *').fill('DNS_Default');
    await page.getByLabel('Type *').selectOption('IPAMDNS_TYPE_INTERNAL_DNS');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByLabel('Domain name *').fill('avi.internal');
    await submitAndWaitForList(page, 'ipamdnsproviderprofile');
    const dns = await byName(ctl, 'ipamdnsproviderprofile', 'DNS_Default');
    assert.equal(dns.type, 'IPAMDNS_TYPE_INTERNAL_DNS');
    assert.equal(dns.internal_profile.dns_service_domain[0].domain_name, 'avi.internal');

    await page.goto(`${ctl.origin}/#/list/cloud`);
    await page.getByRole('link', { name: 'Edit Default-Cloud' }).click();
    await page.getByLabel('IPAM profile').selectOption({ label: 'IPAM_Default' });
    await page.getByLabel('DNS profile').selectOption({ label: 'DNS_Default' });
    await submitAndWaitForList(page, 'cloud');
    const cloud = await byName(ctl, 'cloud', 'Default-Cloud');
    assert.match(cloud.ipam_provider_ref, /#IPAM_Default$/);
    assert.match(cloud.dns_provider_ref, /#DNS_Default$/);
    await page.getByRole('row', { name: /Default-Cloud/ }).getByText('IPAM_Default').waitFor();

    for (const [name, prefix] of [['DNS-SE-Group', 'avi_dns'], ['K8s-SE-Group', 'avi_k8s']]) {
      await page.goto(`${ctl.origin}/#/new/serviceenginegroup`);
      await page.getByLabel('Name *').fill(name);
      await page.getByLabel('Cloud').selectOption({ label: 'Default-Cloud' });
      await page.getByLabel('SE name prefix').fill(prefix);
      await page.getByLabel('Buffer SEs').fill('0');
      await submitAndWaitForList(page, 'serviceenginegroup');
      const seg = await byName(ctl, 'serviceenginegroup', name);
      assert.equal(seg.se_name_prefix, prefix);
      assert.equal(seg.buffer_se, 0);
    }
  });

  it('creates the DNS virtual service with the wizard (System-DNS, VIP from the static pool)', async () => {
    await page.goto(`${ctl.origin}/#/wizard`);
    await page.getByLabel('Name *').fill('Avi-DNS-Service');
    await page.getByLabel('Application type *').selectOption('dns');
    await page.getByLabel('VIP network').selectOption({ label: 'k8s-vip-network' });
    await page.getByRole('button', { name: 'Remove server 1' }).click();
    await page.getByText('Advanced').click();
    await page.getByLabel('SE group').selectOption({ label: 'DNS-SE-Group' });
    await page.getByLabel('VRF context').selectOption({ label: 'k8s-cluster-vrf' });
    await page.getByRole('button', { name: 'Create virtual service' }).click();
    await page.waitForURL(/#\/vs\/virtualservice-/, { timeout: UI_TIMEOUT });
    await page.getByRole('heading', { name: 'Avi-DNS-Service' }).waitFor();
    const vs = await byName(ctl, 'virtualservice', 'Avi-DNS-Service');
    assert.match(vs.application_profile_ref, /#System-DNS$/);
    assert.match(vs.se_group_ref, /#DNS-SE-Group$/);
    assert.equal(vs.services[0].port, 53);
    const vsvip = (await ctl.api('GET', `/api/vsvip/${vs.vsvip_ref.split('#')[0].split('/').pop()}`)).body;
    assert.ok(inRange(vsvip.vip[0].ip_address.addr), `DNS VIP ${vsvip.vip[0].ip_address.addr} from the static pool`);
  });

  it('shows the server\'s validation message next to the field', async () => {
    // The same bad body through the API gives the message the console must show.
    const bad = { name: 'bad-net', cloud_ref: '/api/cloud?name=Default-Cloud', configured_subnets: [{ prefix: { ip_addr: { addr: '127.50.14.0', type: 'V4' }, mask: 200 } }] };
    const api = await ctl.api('POST', '/api/network', bad);
    assert.equal(api.status, 400);
    await page.goto(`${ctl.origin}/#/new/network`);
    await page.getByLabel('Name *').fill('bad-net');
    await page.getByLabel('Cloud').selectOption({ label: 'Default-Cloud' });
    await page.getByRole('button', { name: 'Add subnet' }).click();
    await page.getByLabel('Prefix (CIDR) *').fill('127.50.14.0/200');
    await page.getByRole('button', { name: 'Create' }).click();
    // configured_subnets[0].prefix.mask → under the first subnet's prefix, which is marked invalid.
    const err = page.locator('[data-field="configured_subnets"] [data-field="prefix"] .field-error');
    await err.waitFor();
    assert.equal(await err.textContent(), api.body.error);
    assert.equal(await page.getByLabel('Prefix (CIDR) *').getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'form-error');

    // A duplicate name lands next to the name field.
    await page.goto(`${ctl.origin}/#/new/vrfcontext`);
    await page.getByLabel('Name *').fill('k8s-cluster-vrf');
    await page.getByLabel('Cloud').selectOption({ label: 'Default-Cloud' });
    await page.getByRole('button', { name: 'Create' }).click();
    const nameErr = page.locator('[data-field="name"] .field-error');
    await nameErr.waitFor();
    assert.match((await nameErr.textContent()) ?? '', /already exists/);
    assert.equal((await ctl.api('GET', '/api/network?name=bad-net')).body.count, 0);
  });

  it('creates a virtual service with the wizard, serves it over HTTP, and shows a server going down', async () => {
    backend = createServer((_req, res) => { res.end('hello from the console backend\n'); });
    await new Promise<void>((resolve) => backend!.listen(0, BACKEND_HOST, resolve));
    const backendPort = (backend.address() as AddressInfo).port;

    // A quick monitor, made in Templates, so the test does not wait for the 10 s default.
    await page.goto(`${ctl.origin}/#/new/healthmonitor`);
    await page.getByLabel('Name *').fill('fast-tcp');
    await page.getByLabel('Type *').selectOption('HEALTH_MONITOR_TCP');
    await page.getByLabel('Send interval (s)').fill('1');
    await page.getByLabel('Receive timeout (s)').fill('1');
    await page.getByLabel('Successful checks').fill('1');
    await page.getByLabel('Failed checks').fill('1');
    await submitAndWaitForList(page, 'healthmonitor');

    // A join token from the SE group's page, shown once, and an engine that joins with it.
    await page.goto(`${ctl.origin}/#/list/serviceenginegroup`);
    await page.getByRole('button', { name: 'Join token for K8s-SE-Group' }).click();
    await page.getByRole('button', { name: 'Create join token' }).click();
    const token = ((await page.locator('pre.token').textContent()) ?? '').trim();
    assert.ok(token.length >= 16, `a token is shown: ${token}`);
    await page.getByText(`--join-token ${token}`).waitFor();
    const engine = startEngine(ctl, token, 'console-se-1');
    engines.push(engine);

    await page.goto(`${ctl.origin}/#/wizard`);
    await page.getByLabel('Name *').fill('web-app');
    await page.getByLabel('Application type *').selectOption('http');
    await page.getByLabel('VIP network').selectOption({ label: 'k8s-vip-network' });
    await page.getByLabel('Service port *').fill('8080');
    await page.getByLabel('IP address *', { exact: true }).fill(BACKEND_HOST);
    await page.getByLabel('Port', { exact: true }).fill(String(backendPort));
    await page.getByText('Advanced').click();
    await page.getByLabel('SE group').selectOption({ label: 'K8s-SE-Group' });
    await page.getByLabel('VRF context').selectOption({ label: 'k8s-cluster-vrf' });
    await page.getByLabel('fast-tcp').check();
    await screenshot(page, 'wizard');
    await page.getByRole('button', { name: 'Create virtual service' }).click();
    await page.waitForURL(/#\/vs\/virtualservice-/, { timeout: UI_TIMEOUT });

    const vs = await byName(ctl, 'virtualservice', 'web-app');
    assert.ok(vs, 'VS created');
    const vsvip = (await ctl.api('GET', `/api/vsvip/${vs.vsvip_ref.split('#')[0].split('/').pop()}`)).body;
    const vip = vsvip.vip[0].ip_address.addr;
    assert.ok(inRange(vip), `VIP ${vip} from the static pool`);
    let body = '';
    await waitFor(async () => {
      const res = await fetch(`http://${vip}:8080/`);
      body = await res.text();
      return res.status === 200;
    }, 90_000, `HTTP through the VIP ${vip}:8080`).catch((err: Error) => {
      // Say what the engine was doing: the likeliest culprit when the VIP never answers.
      throw new Error(`${err.message}\nengine output:\n${engine.proc.lines.slice(-30).join('\n')}`);
    });
    assert.equal(body, 'hello from the console backend\n');

    await page.getByRole('heading', { name: 'web-app' }).waitFor();
    await page.locator(`[data-server="${BACKEND_HOST}:${backendPort}"] [data-state$="UP"]`).waitFor({ timeout: 30_000 });

    // Steady traffic while the pages poll, so the live rates and charts have something to show.
    let traffic = true;
    const sender = (async () => {
      while (traffic) {
        await fetch(`http://${vip}:8080/`).then((r) => r.text()).catch(() => '');
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await page.locator('figure.chart', { hasText: 'Requests/s' }).locator('svg').waitFor({ timeout: 30_000 });
      // Sampled request logs: client, request, status, server.
      const log = page.locator('#sec-logs').locator('..').locator('tbody tr', { hasText: `${BACKEND_HOST}` }).first();
      await log.waitFor({ timeout: 30_000 });
      assert.match((await log.textContent()) ?? '', /GET \/.*200/);
      await screenshot(page, 'vs-detail');
      await page.goto(`${ctl.origin}/#/`);
      const live = page.locator('tr[data-vs="web-app"]');
      await live.locator('.servers-up', { hasText: '1/1' }).waitFor({ timeout: 30_000 });
      await live.locator('td[data-label="Requests/s"]', { hasText: /(?:[1-9]\d*(?:\.\d)?|0\.[1-9])[kM]?\/s/ }).waitFor({ timeout: 30_000 });
      await live.locator('td[data-label="Bandwidth"] svg').waitFor();
      await screenshot(page, 'dashboard');
    } finally {
      traffic = false;
      await sender;
    }
    const row = page.locator('tr[data-vs="web-app"]');

    // The engine on the Service Engines page: connected, heartbeating, its config applied.
    await page.goto(`${ctl.origin}/#/list/serviceengine`);
    const se = page.locator('tr[data-name="console-se-1"]');
    await se.locator('[data-state="OPER_UP"]').waitFor();
    await se.locator('td[data-label="SE group"]', { hasText: 'K8s-SE-Group' }).waitFor();
    await se.locator('td[data-label="Virtual services"]', { hasText: 'web-app' }).waitFor();
    await se.locator('td[data-label="CPU"]', { hasText: '%' }).waitFor();
    await se.locator('td[data-label="Memory"]', { hasText: /MiB|GiB/ }).waitFor();
    await screenshot(page, 'service-engines');
    await page.goto(`${ctl.origin}/#/list/network`);
    await page.getByRole('row', { name: /k8s-vip-network/ }).getByText('2 / 8').waitFor();
    await screenshot(page, 'networks');
    await page.goto(`${ctl.origin}/#/`);

    backend.closeAllConnections();
    await new Promise<void>((resolve) => backend!.close(() => resolve()));
    backend = undefined;
    await row.locator('.servers-up', { hasText: '0/1' }).waitFor({ timeout: 30_000 });
    assert.notEqual(await row.getAttribute('data-state'), 'OPER_UP');
    await screenshot(page, 'dashboard-server-down');

    // The VS page says why: the server's health and the event of its pool.
    await page.getByRole('link', { name: 'web-app' }).click();
    await page.locator(`[data-server="${BACKEND_HOST}:${backendPort}"] [data-state="DOWN"]`).waitFor({ timeout: 30_000 });
    await page.locator('#sec-events').locator('..').getByText('SERVER_DOWN').first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'vs-detail-server-down');

    const narrow = await chrome.newPage({ width: 390, height: 800 });
    try {
      await narrow.addInitScript("localStorage.setItem('portico.pollMs', '1000')");
      await narrow.context().addCookies(await page.context().cookies());
      await narrow.goto(`${ctl.origin}/#/`);
      await narrow.locator('tr[data-vs="web-app"]').waitFor();
      await narrow.getByRole('button', { name: 'Menu' }).click();
      await narrow.getByRole('link', { name: 'Networks' }).waitFor();
      await screenshot(narrow, 'narrow-menu');
    } finally {
      await narrow.context().close();
    }
  });

  it('logs out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You have logged out.').waitFor();
    // The session ends on the controller too (the logout call may still be on its way).
    await waitFor(async () => (await page.evaluate(async () => (await fetch('/api/virtualservice')).status)) === 401, 10_000, 'the session to end');
  });
});
