// Small SVG charts: a sparkline for tables and a line chart with axis labels for detail pages.
import { html } from 'htm/preact';

function points(values, w, h, pad = 1) {
  const max = Math.max(1e-9, ...values);
  const step = values.length > 1 ? (w - 2 * pad) / (values.length - 1) : 0;
  return values.map((v, i) => `${(pad + i * step).toFixed(1)},${(h - pad - (v / max) * (h - 2 * pad)).toFixed(1)}`).join(' ');
}

/** `values`: numbers oldest first; nulls are drawn as 0. */
export function Sparkline({ values, label, width = 72, height = 22 }) {
  const v = (values ?? []).map((x) => Number(x) || 0);
  if (v.length < 2) return html`<span class="muted" aria-label=${`${label}: no data`}>–</span>`;
  return html`<svg class="spark" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${label}>
    <polyline points=${points(v, width, height)} fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`;
}

/**
 * `series`: [{timestamp, value}] oldest first. Draws the line, the max on the y axis and the
 * first/last time on the x axis; the latest value is in the title.
 */
export function LineChart({ title, series, format = (x) => String(x), height = 120 }) {
  const width = 360;
  const data = (series ?? []).filter((p) => p && p.timestamp != null);
  const values = data.map((p) => Number(p.value) || 0);
  const last = values.length ? values[values.length - 1] : null;
  const max = values.length ? Math.max(...values) : 0;
  const t = (p) => new Date(p.timestamp).toISOString().slice(11, 19);
  return html`<figure class="chart">
    <figcaption><span>${title}</span> <strong>${last == null ? '–' : format(last)}</strong></figcaption>
    ${values.length < 2
      ? html`<p class="muted chart-empty">No data yet</p>`
      : html`<svg viewBox=${`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img"
            aria-label=${`${title}: latest ${format(last)}, max ${format(max)}`}>
          <line x1="0" y1=${height - 1} x2=${width} y2=${height - 1} class="axis"/>
          <polyline points=${points(values, width, height, 2)} fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke"/>
        </svg>
        <div class="chart-axis"><span>${t(data[0])}</span><span>max ${format(max)}</span><span>${t(data[data.length - 1])}</span></div>`}
  </figure>`;
}
