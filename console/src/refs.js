// Reading refs as the API returns them: `https://host/api/<type>/<uuid>#<name>`.

export function refName(ref) {
  if (!ref) return '';
  const hash = ref.indexOf('#');
  return hash >= 0 ? decodeURIComponent(ref.slice(hash + 1)) : refUuid(ref);
}

export function refUuid(ref) {
  if (!ref) return '';
  const path = ref.split('#')[0].split('?')[0].replace(/\/$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The `<type>` of `…/api/<type>/<uuid>`. */
export function refType(ref) {
  const m = /\/api\/([a-z-]+)\//.exec(ref ?? '');
  return m ? m[1] : '';
}

/** Relative ref for a write: `/api/<type>/<uuid>`. */
export const writeRef = (type, uuid) => `/api/${type}/${uuid}`;
