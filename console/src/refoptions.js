// Choices for ref fields: one list call per referenced type, shared by all fields of a form.
import { useEffect, useState } from 'preact/hooks';
import { list } from './api.js';

function refTypes(specs, out = new Set()) {
  for (const s of specs) {
    if ((s.type === 'ref' || s.type === 'refs') && s.refType) out.add(s.refType);
    if (s.fields) refTypes(s.fields, out);
  }
  return out;
}

export function useRefOptions(specs) {
  const [options, setOptions] = useState({});
  useEffect(() => {
    let live = true;
    const types = [...refTypes(specs)];
    Promise.all(types.map((t) => list(t, { fields: 'name' }).catch(() => [])))
      .then((lists) => {
        if (!live) return;
        const next = {};
        types.forEach((t, i) => { next[t] = lists[i].map((o) => ({ uuid: o.uuid, name: o.name ?? o.uuid })); });
        setOptions(next);
      });
    return () => { live = false; };
  }, [specs]);
  return options;
}
