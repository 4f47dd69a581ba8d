// The console's everyday administration in a real browser against a real controller: keyboard
// login, certificate import, markers and the created_by filter, edit with a concurrent change,
// delete (and a refused delete), tenants, an expired session and the idle logout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { selfSigned } from '../../src/controller/certs/selfsigned.js';
import { launchChromium, screenshot, type Chromium } from './browser.js';
import { ADMIN_PASSWORD, byName, startController, waitFor, type Controller } from './harness.js';

const HOST = '127.50.8.1';
const v4 = (addr: string) => ({ addr, type: 'V4' });

/** Controls without an accessible name, and buttons or links without text, on the current page. */
async function unnamed(page: Page): Promise<string[]> {
  return page.evaluate(`[...document.querySelectorAll('input, select, textarea, button, a[href]')]
    .filter((el) => {
      if (el.matches('button, a')) return !(el.textContent.trim() || el.getAttribute('aria-label'));
      return !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'));
    })
    .map((el) => el.id || el.outerHTML.slice(0, 80))`);
}

async function login(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Applications dashboard' }).waitFor();
}

describe('web console administration', { timeout: 180_000 }, () => {
  let ctl: Controller;
  let chrome: Chromium;
  let page: Page;

  before(async () => {
    ctl = await startController(HOST);
    chrome = await launchChromium();
    page = await chrome.newPage({ width: 1280, height: 800 });
    page.setDefaultTimeout(15_000);
    await page.addInitScript("localStorage.setItem('portico.pollMs', '1000')");
    // An object made by the operator (AKO), with its markers.
    const pool = await ctl.api('POST', '/api/pool', { name: 'c1--default-web-TCP-80', created_by: 'ako-c1',
      markers: [{ key: 'clustername', values: ['c1'] }, { key: 'Namespace', values: ['default'] }, { key: 'ServiceName', values: ['web'] }],
      servers: [{ ip: v4('127.50.8.30'), port: 8080 }] });
    assert.equal(pool.status, 201, JSON.stringify(pool.body));
    const vip = await ctl.api('POST', '/api/vsvip', { name: 'c1--default-web', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
    assert.equal(vip.status, 201, JSON.stringify(vip.body));
    const vs = await ctl.api('POST', '/api/virtualservice', { name: 'c1--default-web', created_by: 'ako-c1',
      markers: [{ key: 'clustername', values: ['c1'] }, { key: 'Namespace', values: ['default'] }, { key: 'ServiceName', values: ['web'] }],
      vsvip_ref: '/api/vsvip?name=c1--default-web', pool_ref: '/api/pool?name=c1--default-web-TCP-80', services: [{ port: 80 }],
      application_profile_ref: '/api/applicationprofile?name=System-L4-Application' });
    assert.equal(vs.status, 201, JSON.stringify(vs.body));
  });

  after(async () => {
    await chrome?.close();
    await ctl?.stop();
  });

  it('logs in with the keyboard alone', async () => {
    await page.goto(`${ctl.origin}/`);
    await page.getByLabel('Username').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Applications dashboard' }).waitFor();
    // The skip link is the first stop and leads to the content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
  });

  it('shows markers and filters by created_by', async () => {
    const row = page.locator('tr[data-vs="c1--default-web"]');
    await row.getByText('ako-c1').waitFor();
    await row.getByText('ServiceName').waitFor();
    await page.getByLabel('Created by').selectOption('ako-c1');
    await row.waitFor();
    await page.getByLabel('Created by').selectOption('-');
    await row.waitFor({ state: 'detached' });
    await page.getByLabel('Created by').selectOption('');
    await page.getByLabel('Name').fill('nothing-like-this');
    await page.getByText('No virtual service matches the filters.').waitFor();
    await page.getByLabel('Name').fill('');
  });

  it('imports a certificate with its key and shows subject, SANs and expiry; the key never comes back', async () => {
    const { cert, key } = selfSigned({ commonName: 'shop.avi.internal', altNames: ['shop.avi.internal', 'www.shop.avi.internal'], days: 90 });
    await page.goto(`${ctl.origin}/#/new/sslkeyandcertificate`);
    await page.getByLabel('Name *').fill('shop-cert');
    await page.getByLabel('Certificate (PEM) *').fill(cert);
    await page.getByLabel('Private key (PEM)').fill(key);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/#\/list\/sslkeyandcertificate$/);
    const row = page.getByRole('row', { name: /shop-cert/ });
    await row.getByText('www.shop.avi.internal').waitFor();
    await row.getByText(/expires in (89|90)d/).waitFor();
    const stored = await byName(ctl, 'sslkeyandcertificate', 'shop-cert');
    assert.equal(stored.certificate.subject.common_name, 'shop.avi.internal');
    assert.equal(stored.key, undefined);
    await page.getByRole('link', { name: 'Edit shop-cert' }).click();
    await page.getByText('www.shop.avi.internal').waitFor();
    assert.equal(await page.getByLabel('Private key (PEM)').inputValue(), '', 'the key is not shown again');
    assert.ok(!(await page.content()).includes('PRIVATE KEY-----\n'), 'no private key in the page');
    await screenshot(page, 'certificate-edit');

    // A key that does not belong to the certificate: the server's message, next to the key.
    const other = selfSigned({ commonName: 'other.avi.internal' });
    await page.goto(`${ctl.origin}/#/new/sslkeyandcertificate`);
    await page.getByLabel('Name *').fill('mismatched');
    await page.getByLabel('Certificate (PEM) *').fill(cert);
    await page.getByLabel('Private key (PEM)').fill(other.key);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('[data-field="key"] .field-error').waitFor();
    assert.equal((await ctl.api('GET', '/api/sslkeyandcertificate?name=mismatched')).body.count, 0);
  });

  it('shows a VS tree: SNI parent and child, policy, pools, certificate with expiry', async () => {
    const post = async (type: string, body: unknown) => {
      const r = await ctl.api('POST', `/api/${type}`, body);
      assert.equal(r.status, 201, `${type}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    await post('vsvip', { name: 'c1--Shared-L7-0', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
    const parent = await post('virtualservice', { name: 'c1--Shared-L7-0', type: 'VS_TYPE_VH_PARENT', created_by: 'ako-c1',
      vsvip_ref: '/api/vsvip?name=c1--Shared-L7-0', application_profile_ref: '/api/applicationprofile?name=System-HTTP',
      services: [{ port: 80 }, { port: 443, enable_ssl: true }], markers: [{ key: 'clustername', values: ['c1'] }] });
    await post('pool', { name: 'c1--default-shop.avi.internal_api-ing1', servers: [{ ip: v4('127.50.8.31'), port: 8080 }] });
    await post('httppolicyset', { name: 'c1--default-shop.avi.internal_api-ing1', http_request_policy: { rules: [{ name: 'r0', index: 0, enable: true,
      match: { path: { match_criteria: 'BEGINS_WITH', match_str: ['/api'] } },
      switching_action: { action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: '/api/pool?name=c1--default-shop.avi.internal_api-ing1' } }] } });
    const child = await post('virtualservice', { name: 'c1--shop.avi.internal', type: 'VS_TYPE_VH_CHILD', created_by: 'ako-c1',
      vh_parent_vs_ref: '/api/virtualservice?name=c1--Shared-L7-0', vh_domain_name: ['shop.avi.internal'],
      application_profile_ref: '/api/applicationprofile?name=System-Secure-HTTP',
      ssl_key_and_certificate_refs: ['/api/sslkeyandcertificate?name=shop-cert'],
      http_policies: [{ index: 11, http_policy_set_ref: '/api/httppolicyset?name=c1--default-shop.avi.internal_api-ing1' }],
      markers: [{ key: 'clustername', values: ['c1'] }, { key: 'Namespace', values: ['default'] }, { key: 'IngressName', values: ['ing1'] }] });

    await page.goto(`${ctl.origin}/#/vs/${parent.uuid}`);
    const tree = page.getByRole('list', { name: 'Configuration tree' });
    await tree.getByRole('link', { name: 'c1--shop.avi.internal' }).waitFor();
    await page.getByText('80, 443 (TLS)').waitFor();
    await tree.getByRole('link', { name: 'c1--shop.avi.internal' }).click();
    await page.getByRole('heading', { name: 'c1--shop.avi.internal' }).waitFor();
    await tree.getByRole('link', { name: 'c1--Shared-L7-0' }).waitFor();
    await tree.getByRole('link', { name: 'c1--default-shop.avi.internal_api-ing1' }).first().waitFor();
    await tree.getByRole('link', { name: 'shop-cert' }).waitFor();
    await tree.getByText(/expires in (89|90)d/).waitFor();
    await page.getByText('IngressName').waitFor();
    assert.ok(page.url().endsWith(`#/vs/${child.uuid}`));
    await screenshot(page, 'vs-detail-sni-child');
  });

  it('opens the list and the create form of every object type without an error', async () => {
    const errors: string[] = [];
    const onError = (e: Error) => errors.push(e.message);
    page.on('pageerror', onError);
    try {
      const kinds = ['virtualservice', 'pool', 'poolgroup', 'vsvip', 'cloud', 'network', 'vrfcontext', 'serviceenginegroup', 'serviceengine',
        'ipamdnsproviderprofile', 'applicationprofile', 'networkprofile', 'healthmonitor', 'sslkeyandcertificate', 'sslprofile', 'httppolicyset', 'tenant'];
      for (const kind of kinds) {
        await page.goto(`${ctl.origin}/#/list/${kind}`);
        await page.locator('table.list tbody tr').first().waitFor();
        assert.equal(await page.locator('.error-box').count(), 0, `${kind} list: ${await page.locator('.error-box').allTextContents()}`);
        assert.deepEqual(await unnamed(page), [], `${kind} list`);
        if (kind === 'serviceengine') continue;
        await page.goto(`${ctl.origin}/#/new/${kind}`);
        await page.getByLabel('Name *').waitFor();
        // Open every repeated group once, so its controls are checked too.
        for (const add of await page.getByRole('button', { name: /^Add / }).all()) await add.click();
        for (const add of await page.getByRole('button', { name: /^Add / }).all()) await add.click();
        assert.deepEqual(await unnamed(page), [], `${kind} form`);
        await page.getByRole('link', { name: 'Cancel' }).click();
        await page.waitForURL(new RegExp(`#/list/${kind}$`));
      }
      await page.goto(`${ctl.origin}/#/wizard`);
      await page.getByText('Advanced').click();
      await page.getByLabel('SE group').waitFor();
      assert.deepEqual(await unnamed(page), [], 'wizard');
      // System objects open in their edit form too.
      await page.goto(`${ctl.origin}/#/list/applicationprofile`);
      await page.getByRole('link', { name: 'Edit System-HTTP' }).click();
      assert.equal(await page.getByLabel('Name *').inputValue(), 'System-HTTP');
    } finally {
      page.off('pageerror', onError);
    }
    assert.deepEqual(errors, []);
  });

  it('edits an object, and refuses to overwrite a change made meanwhile', async () => {
    const created = await ctl.api('POST', '/api/network', { name: 'edit-net', configured_subnets: [{ prefix: { ip_addr: v4('127.50.9.0'), mask: 24 },
      static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: v4('127.50.9.10'), end: v4('127.50.9.20') } }] }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await page.goto(`${ctl.origin}/#/edit/network/${created.body.uuid}`);
    await page.getByLabel('Last address').fill('127.50.9.30');
    // Someone else changes it first.
    const theirs = { ...created.body, markers: [{ key: 'owner', values: ['someone-else'] }] };
    delete theirs.url;
    assert.equal((await ctl.api('PUT', `/api/network/${created.body.uuid}`, theirs)).status, 200);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.form-error').getByText(/changed since it was read/).waitFor();

    await page.getByRole('button', { name: /Load the latest version/ }).click();
    await page.locator('.form-error').waitFor({ state: 'detached' });
    await waitFor(async () => (await page.getByLabel('Markers').inputValue()) === 'owner=someone-else', 10_000, 'their change to be loaded');
    await page.getByLabel('Last address').fill('127.50.9.30');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/#\/list\/network$/);
    const net = (await ctl.api('GET', `/api/network/${created.body.uuid}`)).body;
    assert.equal(net.configured_subnets[0].static_ip_ranges[0].range.end.addr, '127.50.9.30');
    assert.deepEqual(net.markers, [{ key: 'owner', values: ['someone-else'] }], 'their change is kept');
  });

  it('wizard: a static VIP outside the pool is refused next to its field, nothing is left behind; a free one works', async () => {
    const net = await ctl.api('POST', '/api/network', { name: 'static-net', configured_subnets: [{ prefix: { ip_addr: v4('127.50.10.0'), mask: 24 },
      static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: v4('127.50.10.10'), end: v4('127.50.10.20') } }] }] });
    assert.equal(net.status, 201, JSON.stringify(net.body));
    await page.goto(`${ctl.origin}/#/wizard`);
    await page.getByLabel('Name *').fill('static-app');
    await page.getByLabel('VIP address *').selectOption('static');
    await page.getByLabel('VIP network').selectOption({ label: 'static-net' });
    await page.getByLabel('Static VIP address').fill('127.50.10.99');
    await page.getByLabel('IP address *', { exact: true }).fill('127.50.8.40');
    await page.getByRole('button', { name: 'Create virtual service' }).click();
    const err = page.locator('[data-field="static_ip"] .field-error');
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /127\.50\.10\.99/);
    assert.equal(await page.getByLabel('Static VIP address').getAttribute('aria-invalid'), 'true');
    for (const type of ['vsvip', 'pool', 'virtualservice']) {
      assert.equal((await ctl.api('GET', `/api/${type}?name.contains=static-app`)).body.count, 0, `no ${type} left behind`);
    }
    await screenshot(page, 'wizard-error');

    await page.getByLabel('Static VIP address').fill('127.50.10.15');
    await page.getByRole('button', { name: 'Create virtual service' }).click();
    await page.waitForURL(/#\/vs\/virtualservice-/);
    const vsvip = await byName(ctl, 'vsvip', 'static-app');
    assert.equal(vsvip.vip[0].ip_address.addr, '127.50.10.15');
    await page.getByText('127.50.10.15').first().waitFor();
  });

  it('edits a virtual service through its form: disabled, it shows as such on the dashboard', async () => {
    const vs = await byName(ctl, 'virtualservice', 'c1--default-web');
    await page.goto(`${ctl.origin}/#/vs/${vs.uuid}`);
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Enabled').uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/#\/list\/virtualservice$/);
    const after = await byName(ctl, 'virtualservice', 'c1--default-web');
    assert.equal(after.enabled, false);
    assert.deepEqual(after.markers, vs.markers, 'markers kept');
    assert.equal(after.created_by, 'ako-c1');
    assert.equal(after.services[0].port, 80);
    await page.goto(`${ctl.origin}/#/`);
    await page.locator('tr[data-vs="c1--default-web"][data-state="OPER_DISABLED"]').waitFor();
  });

  it('deletes from a list, and shows why a delete is refused', async () => {
    page.on('dialog', (d) => { void d.accept(); });
    await page.goto(`${ctl.origin}/#/list/network`);
    await page.getByRole('button', { name: 'Delete edit-net' }).click();
    await page.getByRole('row', { name: /edit-net/ }).waitFor({ state: 'detached' });
    assert.equal((await ctl.api('GET', '/api/network?name=edit-net')).body.count, 0);

    await page.goto(`${ctl.origin}/#/list/pool`);
    await page.getByRole('button', { name: 'Delete c1--default-web-TCP-80' }).click();
    const err = page.locator('.error-box');
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /c1--default-web|virtualservice|refer/i);
    assert.equal((await ctl.api('GET', '/api/pool?name=c1--default-web-TCP-80')).body.count, 1);
  });

  it('switches tenants: lists and writes follow the selected tenant', async () => {
    assert.equal((await ctl.api('POST', '/api/tenant', { name: 'team-a' })).status, 201);
    await page.goto(`${ctl.origin}/#/`);
    await page.reload();
    await page.locator('tr[data-vs="c1--default-web"]').waitFor();
    await page.getByLabel('Tenant').selectOption('team-a');
    await page.getByText('No virtual services yet.').waitFor();
    await page.goto(`${ctl.origin}/#/new/healthmonitor`);
    await page.getByLabel('Name *').fill('team-a-monitor');
    await page.getByLabel('Type *').selectOption('HEALTH_MONITOR_TCP');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/#\/list\/healthmonitor$/);
    const inTeam = await ctl.api('GET', '/api/healthmonitor?name=team-a-monitor', undefined, { 'X-Avi-Tenant': 'team-a' });
    assert.equal(inTeam.body.count, 1);
    assert.equal((await ctl.api('GET', '/api/healthmonitor?name=team-a-monitor')).body.count, 0, 'not in admin');
    await page.getByLabel('Tenant').selectOption('admin');
    await page.getByRole('row', { name: /team-a-monitor/ }).waitFor({ state: 'detached' });
  });

  it('returns to the login page when the session is gone, and logs out when idle', async () => {
    await page.goto(`${ctl.origin}/#/`);
    await page.locator('tr[data-vs="c1--default-web"]').waitFor();
    await page.context().clearCookies();
    await page.getByText('Your session has expired. Please log in again.').waitFor();

    await login(page, ctl.origin);
    await page.evaluate("localStorage.setItem('portico.idleMinutes', '0.03')");
    await page.reload();
    await page.getByText('You were logged out after a period of inactivity.').waitFor({ timeout: 20_000 });
    await page.evaluate("localStorage.removeItem('portico.idleMinutes')");
    await waitFor(async () => (await page.evaluate(async () => (await fetch('/api/tenant')).status)) === 401, 10_000,
      'the idle logout to end the session on the controller too');
  });
});
