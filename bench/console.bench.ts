// The web console: bundle size, and the dashboard in Debian's Chromium against a real controller
// holding VSES virtual services: time from navigation to every row rendered, and the API calls
// and time one live refresh costs.
//   npm run bench -- console          (VSES to change the count)
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/console/browser.js';
import { ADMIN_PASSWORD, startController } from '../test/console/harness.js';

const VSES = Number(process.env.VSES ?? 200);
const app = readFileSync(fileURLToPath(new URL('../../console/dist/app.js', import.meta.url)));
const css = readFileSync(fileURLToPath(new URL('../../console/dist/styles.css', import.meta.url)));
const rows: Array<[string, string]> = [
  ['bundle app.js (minified / gzip)', `${(app.length / 1024).toFixed(1)} KiB / ${(gzipSync(app).length / 1024).toFixed(1)} KiB`],
  ['styles.css (raw / gzip)', `${(css.length / 1024).toFixed(1)} KiB / ${(gzipSync(css).length / 1024).toFixed(1)} KiB`],
];

const ctl = await startController('127.50.30.1');
const chrome = await launchChromium().catch(async (e) => { await ctl.stop(); throw e; });
try {
  for (let i = 0; i < VSES; i++) {
    const name = `bench-vs-${i}`;
    const vip = await ctl.api('POST', '/api/vsvip', { name, vip: [{ vip_id: '0', auto_allocate_ip: true }] });
    if (vip.status !== 201) throw new Error(`vsvip ${i}: ${JSON.stringify(vip.body)}`);
    const vs = await ctl.api('POST', '/api/virtualservice', { name, vsvip_ref: `/api/vsvip/${vip.body.uuid}`, services: [{ port: 80 }] });
    if (vs.status !== 201) throw new Error(`vs ${i}: ${JSON.stringify(vs.body)}`);
  }
  const total = (await ctl.api('GET', '/api/virtualservice?page_size=1')).body.count as number;
  const page = await chrome.newPage({ width: 1280, height: 800 });
  await page.addInitScript("localStorage.setItem('portico.pollMs', '2000')");
  await page.goto(`${ctl.origin}/`);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  const t0 = Date.now();
  await page.getByLabel('Password').press('Enter');
  await page.waitForFunction(`document.querySelectorAll('tr[data-vs]').length === ${total}`, undefined, { timeout: 120_000 });
  rows.push([`dashboard, login → ${total} rows rendered`, `${Date.now() - t0} ms`]);

  // One refresh: API calls and the time from its first request to its last response.
  let calls = 0;
  let first = 0;
  let last = 0;
  page.on('request', (r) => { if (r.url().includes('/api/')) { calls++; first ||= Date.now(); } });
  page.on('requestfinished', (r) => { if (r.url().includes('/api/')) last = Date.now(); });
  await page.waitForTimeout(2_500); // one poll period and a half: exactly one refresh in the window
  rows.push([`one live refresh (${total} VSes): API calls`, String(calls)]);
  rows.push([`one live refresh (${total} VSes): first request → last response`, `${last - first} ms`]);
} finally {
  await chrome.close();
  await ctl.stop();
}
const w = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
