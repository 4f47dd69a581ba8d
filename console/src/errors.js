// Puts a server error next to the field it names. The controller's messages name the field
// (`name`, `configured_subnets[0].static_ip_ranges[0]…`, `internal_profile.usable_networks`…);
// the longest field key found in the message wins, otherwise the message goes above the form.

function mentions(message, key) {
  const flat = message.replace(/\[\d+\]/g, '');
  let from = 0;
  for (;;) {
    const i = flat.indexOf(key, from);
    if (i < 0) return false;
    const before = i === 0 ? '' : flat[i - 1];
    const after = flat[i + key.length] ?? '';
    if (!/[A-Za-z0-9_]/.test(before) && !/[A-Za-z0-9_]/.test(after)) return true;
    from = i + 1;
  }
}

/** The spec (of `specs`, top-level fields only) that `message` is about, or null. */
export function fieldForMessage(message, specs) {
  let best = null;
  let bestLen = 0;
  for (const spec of specs) {
    const names = [spec.key, spec.key.split('.').pop(), ...(spec.aliases ?? [])];
    for (const n of names) {
      if (n.length > bestLen && mentions(message, n)) { best = spec; bestLen = n.length; }
    }
  }
  return best;
}

/**
 * Where in a form a message belongs, as a field location (`configured_subnets.0.prefix`): the
 * deepest rendered field whose path starts the message (`configured_subnets[0].prefix.mask: …`),
 * else the top-level field the message mentions, else null (shown above the form).
 */
export function locateError(message, specs, draft) {
  const path = message.split(/[:;]/)[0].trim().replace(/\[(\d+)\]/g, '.$1');
  let best = '';
  const walk = (list, obj, prefix) => {
    for (const spec of list) {
      const loc = prefix + spec.key;
      if ((path === loc || path.startsWith(`${loc}.`)) && loc.length > best.length) best = loc;
      if (spec.type === 'rows') {
        const rows = spec.key.split('.').reduce((o, k) => (o == null ? o : o[k]), obj);
        (Array.isArray(rows) ? rows : []).forEach((row, i) => walk(spec.fields, row, `${loc}.${i}.`));
      }
    }
  };
  walk(specs, draft, '');
  if (best) return best;
  return fieldForMessage(message, specs)?.key ?? null;
}
