// The console shell: login gate, navigation, tenant switcher and the hash router.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentTenant, list, setTenant } from './api.js';
import { useRoute } from './hooks.js';
import { KINDS, SECTIONS } from './kinds.js';
import { useSession } from './session.js';
import { LoginPage } from './pages/login.js';
import { DashboardPage } from './pages/dashboard.js';
import { VsDetailPage } from './pages/vsdetail.js';
import { ListPage } from './pages/list.js';
import { FormPage } from './pages/form.js';
import { WizardPage } from './pages/wizard.js';
import { ServiceEnginesPage } from './pages/serviceengines.js';

function TenantSwitcher({ onChange }) {
  const [tenants, setTenants] = useState([currentTenant()]);
  useEffect(() => {
    list('tenant', { fields: 'name' }).then((ts) => setTenants(ts.map((t) => t.name))).catch(() => {});
  }, []);
  return html`<div class="tenant">
    <label for="tenant-select">Tenant</label>
    <select id="tenant-select" onChange=${(e) => { setTenant(e.currentTarget.value); onChange(e.currentTarget.value); }}>
      ${tenants.map((t) => html`<option value=${t} selected=${t === currentTenant()}>${t}</option>`)}
    </select>
  </div>`;
}

function Nav({ route, onNavigate }) {
  const link = (href, label) => {
    const active = route === href.slice(1) || (href !== '#/' && route.startsWith(href.slice(1) + '/'));
    return html`<li><a href=${href} aria-current=${active ? 'page' : undefined} onClick=${onNavigate}>${label}</a></li>`;
  };
  return html`<nav aria-label="Main">
    <div class="nav-group"><h2>Applications</h2><ul>
      ${link('#/', 'Dashboard')}
      ${link('#/wizard', 'Create virtual service')}
      ${SECTIONS[0].kinds.map((k) => link(`#/list/${k}`, KINDS[k].title))}
    </ul></div>
    ${SECTIONS.slice(1).map((s) => html`<div class="nav-group"><h2>${s.title}</h2><ul>
      ${s.kinds.map((k) => link(`#/list/${k}`, KINDS[k].title))}
    </ul></div>`)}
  </nav>`;
}

function Page({ route, tenant }) {
  const parts = route.split('/').filter(Boolean);
  const [page, a, b] = parts;
  if (!page) return html`<${DashboardPage} key=${tenant}/>`;
  if (page === 'vs' && a) return html`<${VsDetailPage} key=${tenant + a} uuid=${a}/>`;
  if (page === 'wizard') return html`<${WizardPage} key=${tenant}/>`;
  if (page === 'list' && a === 'serviceengine') return html`<${ServiceEnginesPage} key=${tenant}/>`;
  if (page === 'list' && KINDS[a]) return html`<${ListPage} key=${tenant + a} kind=${a}/>`;
  if (page === 'new' && KINDS[a]) return html`<${FormPage} key=${tenant + a} kind=${a}/>`;
  if (page === 'edit' && KINDS[a] && b) return html`<${FormPage} key=${tenant + a + b} kind=${a} uuid=${b}/>`;
  return html`<div class="card"><h1>Not found</h1><p>No page at <code>#${route}</code>. <a href="#/">Go to the dashboard</a>.</p></div>`;
}

export function App() {
  const session = useSession();
  const route = useRoute();
  const [tenant, setTenantState] = useState(currentTenant());
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    if (!menuOpen) return undefined;
    const onKey = (e) => { if (e.key === 'Escape') { setMenuOpen(false); document.querySelector('.menu-toggle')?.focus(); } };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [menuOpen]);
  // After a navigation, move focus to the page so keyboard and screen-reader users start there.
  const first = useRef(true);
  useEffect(() => {
    document.title = `Portico · ${route === '/' ? 'Dashboard' : route.split('/')[1] ?? ''}`;
    if (first.current) { first.current = false; return; }
    document.getElementById('main')?.focus();
  }, [route]);
  if (session.state === 'checking') return html`<p class="boot" role="status">Loading Portico…</p>`;
  if (session.state === 'out') return html`<${LoginPage} session=${session}/>`;
  return html`<div class=${`shell${menuOpen ? ' menu-open' : ''}`}>
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <button type="button" class="menu-toggle" aria-expanded=${menuOpen} aria-controls="sidebar"
        onClick=${() => setMenuOpen(!menuOpen)}>☰<span class="sr-only"> Menu</span></button>
      <a class="brand" href="#/"><span class="brand-mark" aria-hidden="true">◆</span> Portico</a>
      <div class="topbar-right">
        <${TenantSwitcher} onChange=${setTenantState}/>
        <span class="user" aria-label="Logged in as">${session.user}</span>
        <button type="button" class="secondary" onClick=${() => session.logout()}>Log out</button>
      </div>
    </header>
    <aside id="sidebar" class="sidebar"><${Nav} route=${route} onNavigate=${() => setMenuOpen(false)}/></aside>
    <main id="main" class="content" tabindex="-1"><${Page} route=${route} tenant=${tenant}/></main>
  </div>`;
}
