// One manifest file → the Kubernetes objects in it (several YAML documents, `kind: List` expanded),
// each with the line it starts on; what does not parse or has no usable identity is a problem with
// `file:line`. YAML error messages keep only their first line: the source excerpt yaml appends could
// hold a Secret's data.
import { LineCounter, parseAllDocuments } from 'yaml';
import type { SourceProblem } from './types.js';

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface LocatedObject {
  object: ManifestObject;
  /** `file.yaml:12`: where the document starts. */
  where: string;
}

export interface ParsedFile {
  objects: LocatedObject[];
  problems: SourceProblem[];
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function isStringMap(v: unknown): boolean {
  return v === undefined || (isObj(v) && Object.values(v).every((x) => typeof x === 'string'));
}

/** Why `v` is not a usable object, or undefined when it is. */
function shapeProblem(v: unknown): string | undefined {
  if (!isObj(v)) return 'a document must be a mapping (a Kubernetes object)';
  if (typeof v.apiVersion !== 'string' || v.apiVersion === '') return 'apiVersion is missing';
  if (typeof v.kind !== 'string' || v.kind === '') return 'kind is missing';
  const meta = v.metadata;
  if (!isObj(meta)) return `${v.kind}: metadata is missing`;
  if (typeof meta.name !== 'string' || meta.name === '') return `${v.kind}: metadata.name is missing`;
  if (meta.namespace !== undefined && (typeof meta.namespace !== 'string' || meta.namespace === '')) return `${v.kind} ${meta.name}: metadata.namespace must be a non-empty string`;
  if (!isStringMap(meta.labels)) return `${v.kind} ${meta.name}: metadata.labels must map strings to strings`;
  if (!isStringMap(meta.annotations)) return `${v.kind} ${meta.name}: metadata.annotations must map strings to strings (quote numbers and booleans)`;
  return undefined;
}

export function parseManifest(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const out: ParsedFile = { objects: [], problems: [] };
  const at = (offset: number | undefined): string => `${file}:${lineCounter.linePos(offset ?? 0).line}`;
  let docs;
  try {
    docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  } catch (err) {
    out.problems.push({ where: `${file}:1`, message: `does not parse: ${(err as Error).message.split('\n')[0]}` });
    return out;
  }
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
      out.problems.push({ where: `${file}:${line}`, message: `does not parse: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      out.problems.push({ where: at(doc.range[0]), message: `does not parse: ${(err as Error).message.split('\n')[0]}` });
      continue;
    }
    if (value === null || value === undefined) continue; // an empty document (comments, a trailing ---)
    const where = at(doc.contents?.range?.[0] ?? doc.range[0]);
    const items = isObj(value) && value.kind === 'List' && Array.isArray(value.items) ? value.items : [value];
    for (const item of items) {
      const problem = shapeProblem(item);
      if (problem) out.problems.push({ where, message: problem });
      else out.objects.push({ object: item as ManifestObject, where });
    }
  }
  return out;
}
