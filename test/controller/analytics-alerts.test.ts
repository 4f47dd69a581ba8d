// Certificate expiry events and the inventory's alert summary per VS, on a real controller.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { selfSigned } from '../../src/controller/certs/selfsigned.js';
import { alertSummary, openAlerts } from '../../src/controller/analytics/alerts.js';
import { Client, PASSWORD } from './support.js';
import { until } from '../engine/support.js';

const NET = `127.105.${60 + (process.pid % 40)}`;
const dir = mkdtempSync(join(tmpdir(), 'portico-alerts-'));
let ctl: Controller | undefined;

after(async () => {
  await ctl?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a certificate expiring within 30 days is an event; the inventory sums up each VS\'s alerts by level', { timeout: 30_000 }, async () => {
  ctl = await startController({ listen: `${NET}.1:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: `${NET}.128/25` });
  const api = new Client(ctl.url);
  const cert = (name: string, days: number) => { const c = selfSigned({ commonName: `${name}.example.com`, days }); return api.create('sslkeyandcertificate', { name, certificate: { certificate: c.cert }, key: c.key }); };
  const soon = await cert('expires-soon', 10);
  const later = await cert('expires-later', 400);
  const vsvip = await api.create('vsvip', { name: 'al-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vs = await api.create('virtualservice', { name: 'al-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, services: [{ port: 443, enable_ssl: true }], ssl_key_and_certificate_refs: [`/api/sslkeyandcertificate/${soon.uuid}`, `/api/sslkeyandcertificate/${later.uuid}`] });

  // The event: once, for the certificate that expires soon, with the days left.
  const certEvents = async () => (await api.ok('GET', '/api/analytics/events?page_size=1000')).results.filter((e: any) => e.event_id === 'SSL_CERT_EXPIRE');
  await until('SSL_CERT_EXPIRE event', async () => (await certEvents()).length > 0, 10_000);
  const [ev] = await certEvents();
  assert.equal(ev.obj_uuid, soon.uuid);
  assert.equal(ev.obj_type, 'sslkeyandcertificate');
  assert.equal(ev.level, 'ALERT_MEDIUM');
  assert.match(ev.event_description, /certificate expires-soon expires in 9 days/);
  assert.ok(!(await certEvents()).some((e: any) => e.obj_uuid === later.uuid));
  const byObject = await api.ok('GET', `/api/analytics/logs?type=2&obj_uuid=${soon.uuid}`);
  assert.equal(byObject.count, 1);

  // Inventory: the VS has no service engine (down: high) and a certificate expiring (medium);
  // the last day's events about it and its certificates, by level.
  const inv = await api.ok('GET', `/api/virtualservice-inventory/${vs.uuid}`);
  const s = inv.alert_summary;
  assert.equal(s.open.ALERT_HIGH, 1, JSON.stringify(s));
  assert.equal(s.open.ALERT_MEDIUM, 1, JSON.stringify(s));
  assert.deepEqual(s.alerts.map((a: any) => a.event_id).sort(), ['SSL_CERT_EXPIRE', 'VS_DOWN']);
  assert.ok(s.alerts.some((a: any) => a.obj_uuid === soon.uuid && /expires in 9 days/.test(a.reason)));
  assert.ok(s.events_24h.ALERT_MEDIUM >= 1, JSON.stringify(s));
  const list = await api.ok('GET', '/api/virtualservice-inventory?name=al-vs');
  assert.deepEqual(list.results[0].alert_summary.open, s.open);
  assert.match(inv.health_score.factors.join(), /a certificate expires in 9 days/);
});

test('open alerts: expired certificate high, a standby SE not connected medium, servers down medium', () => {
  const rt = {
    oper_status: { state: 'OPER_UP', reason: [], last_changed_time: { secs: 0, usecs: 0 } }, percent_ses_up: 100, num_se_assigned: 2,
    se_list: [{ se_uuid: 'se-a', se_name: 'a', connected: true, primary: true, standby: false }, { se_uuid: 'se-b', se_name: 'b', connected: false, primary: false, standby: true }],
    servers: [{ pool_uuid: 'pool-1', ip: '10.0.0.1', port: 80, state: 'DOWN', reason: 'connect refused' }, { pool_uuid: 'pool-1', ip: '10.0.0.2', port: 80, state: 'UP' }],
  };
  const now = Date.parse('2026-01-10T00:00:00Z');
  const open = openAlerts({ uuid: 'vs-1', name: 'v' }, rt, [{ uuid: 'c-1', name: 'old', not_after: '2026-01-01T00:00:00.000Z' }, { uuid: 'c-2', name: 'fine', not_after: '2027-01-01T00:00:00.000Z' }], now);
  assert.deepEqual(open.map((a) => [a.level, a.event_id, a.obj_uuid]), [['ALERT_MEDIUM', 'SE_DOWN', 'se-b'], ['ALERT_MEDIUM', 'SERVER_DOWN', 'pool-1'], ['ALERT_HIGH', 'SSL_CERT_EXPIRE', 'c-1']]);
  const s = alertSummary(open, [{ event_id: 'SERVER_DOWN', n: 3 }, { event_id: 'VS_UP', n: 1 }, { event_id: 'SE_DOWN', n: 1 }]);
  assert.deepEqual(s.open, { ALERT_HIGH: 1, ALERT_MEDIUM: 2, ALERT_LOW: 0 });
  assert.deepEqual(s.events_24h, { ALERT_HIGH: 1, ALERT_MEDIUM: 3, ALERT_LOW: 1 });
});
