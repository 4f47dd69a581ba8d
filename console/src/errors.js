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
