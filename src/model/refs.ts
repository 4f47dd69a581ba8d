// Refs are URLs in the API (`https://host/api/pool/pool-<uuid>#name`), query refs on write
// (`/api/pool?name=x`), and bare UUIDs inside the store and in engine snapshots.

/** The UUID inside a ref URL (`…/api/<type>/<uuid>[#name]`), or the ref itself when it is already bare. */
export function refUuid(ref: string): string {
  const hash = ref.indexOf('#');
  const noHash = hash >= 0 ? ref.slice(0, hash) : ref;
  const q = noHash.indexOf('?');
  const path = q >= 0 ? noHash.slice(0, q) : noHash;
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const slash = trimmed.lastIndexOf('/');
  return slash >= 0 ? trimmed.slice(slash + 1) : trimmed;
}

/** The object type encoded in a UUID (`pool-…` → `pool`); `admin` is the admin tenant. */
export function uuidType(uuid: string): string {
  if (uuid === 'admin') return 'tenant';
  const dash = uuid.indexOf('-');
  return dash > 0 ? uuid.slice(0, dash) : '';
}
