// Checks a Kubernetes object the way the API server would: the OpenAPI schema of its kind
// (kubernetes-models: types, enums, required fields) and strict field validation (no field the
// kind does not define; field names from @kubernetes/client-node's type maps).
import * as k8s from '@kubernetes/client-node';

interface AttributeType { name: string; baseName: string; type: string }
type ModelClass = { getAttributeTypeMap(): AttributeType[] };

const modelCache = new Map<string, new (data: unknown) => { validate(): void }>();

async function modelFor(apiVersion: string, kind: string): Promise<new (data: unknown) => { validate(): void }> {
  const key = `${apiVersion}/${kind}`;
  let model = modelCache.get(key);
  if (!model) {
    const mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
    model = mod[kind];
    if (!model) throw new Error(`no schema for ${key}`);
    modelCache.set(key, model);
  }
  return model;
}

/** Unknown fields, as `kubectl apply --validate=strict` reports them (`.spec.template.spec.foo`). */
export function unknownFields(value: unknown, typeName: string, at = ''): string[] {
  const out: string[] = [];
  if (value === null || value === undefined) return out;
  const arrayOf = /^Array<(.+)>$/.exec(typeName);
  if (arrayOf) {
    if (Array.isArray(value)) value.forEach((v, i) => out.push(...unknownFields(v, arrayOf[1]!, `${at}[${i}]`)));
    return out;
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (mapOf) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...unknownFields(v, mapOf[1]!, `${at}.${k}`));
    return out;
  }
  const cls = (k8s as unknown as Record<string, ModelClass | undefined>)[typeName];
  if (!cls || typeof cls.getAttributeTypeMap !== 'function' || typeof value !== 'object' || Array.isArray(value)) return out;
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const t = attrs.get(k);
    if (!t) out.push(`${at}.${k}`);
    else out.push(...unknownFields(v, t, `${at}.${k}`));
  }
  return out;
}

/** Problems of one object (empty when the API server would accept it). */
export async function validateObject(obj: Record<string, unknown>): Promise<string[]> {
  const { apiVersion, kind } = obj as { apiVersion?: string; kind?: string };
  if (!apiVersion || !kind) return ['apiVersion and kind are required'];
  const problems: string[] = [];
  const Model = await modelFor(apiVersion, kind);
  try { new Model(obj).validate(); } catch (e) { problems.push(`schema: ${(e as Error).message}`); }
  const version = apiVersion.split('/').pop()!;
  const typeName = `V${version.slice(1, 2).toUpperCase()}${version.slice(2)}${kind}`;
  for (const f of unknownFields(obj, typeName)) problems.push(`unknown field ${f}`);
  const meta = obj.metadata as { name?: unknown } | undefined;
  if (typeof meta?.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name)) problems.push(`metadata.name ${String(meta?.name)} is not a DNS-1123 name`);
  return problems;
}
