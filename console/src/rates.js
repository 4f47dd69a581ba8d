// Rates from the SEs' cumulative counters (the runtime's `metrics`), for controllers without the
// metrics API: the console keeps the samples it polled and differentiates them.

const KEEP = 61;
const history = new Map();

/** Remembers one sample of a VS's counters, taken at `t` (ms). */
export function recordCounters(uuid, counters, t = Date.now()) {
  if (!counters || typeof counters !== 'object') return;
  const h = history.get(uuid) ?? [];
  if (h.length && t - h[h.length - 1].t < 200) return; // two pages polling at once
  h.push({ t, c: { ...counters } });
  if (h.length > KEEP) h.shift();
  history.set(uuid, h);
}

const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
// A counter that went down means an SE restarted and counted again from zero.
const delta = (a, b, k) => (num(b[k]) >= num(a[k]) ? num(b[k]) - num(a[k]) : num(b[k]));

/** Series keyed by metric id, as the metrics API would give them (ids from vsdata METRICS). */
export function derivedSeries(uuid, ids) {
  const h = history.get(uuid) ?? [];
  const out = { [ids.requests]: [], [ids.bandwidth]: [], [ids.latency]: [], [ids.errors4xx]: [], [ids.errors5xx]: [], [ids.connections]: [] };
  for (let i = 1; i < h.length; i++) {
    const a = h[i - 1].c;
    const b = h[i].c;
    const secs = (h[i].t - h[i - 1].t) / 1000;
    const timestamp = new Date(h[i].t).toISOString();
    const rate = (k) => ({ timestamp, value: delta(a, b, k) / secs });
    out[ids.requests].push(rate('requests'));
    out[ids.connections].push(rate('connections'));
    out[ids.errors4xx].push(rate('responses_4xx'));
    out[ids.errors5xx].push(rate('responses_5xx'));
    out[ids.bandwidth].push({ timestamp, value: ((delta(a, b, 'bytes_in') + delta(a, b, 'bytes_out')) * 8) / secs });
    const n = delta(a, b, 'latency_count');
    out[ids.latency].push({ timestamp, value: n ? delta(a, b, 'latency_ms_sum') / n : 0 });
  }
  return out;
}
