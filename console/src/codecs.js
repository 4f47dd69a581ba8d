// Conversions between the API's structured values and what a person types in a text box.

/** IpAddr `{addr, type}` ⇄ `10.0.0.1`. */
export const ipCodec = {
  toText: (v) => v?.addr ?? '',
  fromText: (s) => {
    const addr = s.trim();
    if (!addr) return undefined;
    return { addr, type: addr.includes(':') ? 'V6' : 'V4' };
  },
};

/** IpAddrPrefix `{ip_addr: {addr, type}, mask}` ⇄ `10.0.0.0/24`. */
export const prefixCodec = {
  toText: (v) => (v?.ip_addr?.addr ? `${v.ip_addr.addr}/${v.mask ?? ''}` : ''),
  fromText: (s) => {
    const t = s.trim();
    if (!t) return undefined;
    const [addr, mask] = t.split('/');
    // A missing or bad mask is sent as typed so the controller names the problem.
    return { ip_addr: ipCodec.fromText(addr), mask: mask === undefined || mask === '' ? undefined : Number(mask) };
  },
};

/** `[{key, value}]` labels ⇄ `key=value` lines. */
export const labelsCodec = {
  toText: (v) => (v ?? []).map((l) => `${l.key}=${l.value ?? ''}`).join('\n'),
  fromText: (s) => s.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const i = l.indexOf('=');
    return i < 0 ? { key: l } : { key: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
  }),
};

/** `[{key, values: []}]` markers ⇄ `key=v1,v2` lines. */
export const markersCodec = {
  toText: (v) => (v ?? []).map((m) => `${m.key}=${(m.values ?? []).join(',')}`).join('\n'),
  fromText: (s) => s.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const i = l.indexOf('=');
    const key = i < 0 ? l : l.slice(0, i).trim();
    const values = i < 0 ? [] : l.slice(i + 1).split(',').map((x) => x.trim()).filter(Boolean);
    return { key, values };
  }),
};

/** `[]string` ⇄ one per line. */
export const linesCodec = {
  toText: (v) => (v ?? []).join('\n'),
  fromText: (s) => s.split('\n').map((l) => l.trim()).filter(Boolean),
};

/** Any JSON value ⇄ its text; unparsable text is kept as a string so the server reports it. */
export const jsonCodec = {
  toText: (v) => (v === undefined ? '' : JSON.stringify(v, null, 2)),
  fromText: (s) => {
    if (!s.trim()) return undefined;
    try { return JSON.parse(s); } catch { return s; }
  },
};
