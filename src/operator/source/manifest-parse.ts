// One manifest file → the Kubernetes objects in it (several YAML documents, `kind: List` expanded),
// each with the line it starts on; what does not parse or has no usable identity is a problem with
// `file:line`. The file is split at document markers and each document read with js-yaml (several
// times faster than the `yaml` package on big folders); a document with anchors goes through `yaml`,
// whose alias limit stops "billion laughs" documents. Problems carry the parser's reason only,
// never source text: it could be a Secret's.
import { CORE_SCHEMA, load } from 'js-yaml';
import { LineCounter, parseDocument } from 'yaml';
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

interface Chunk {
  /** 1-based line of the chunk's first line in the file. */
  startLine: number;
  text: string;
}

const DOC_MARKER = /^(---|\.\.\.)(?=\s|$)/;

/** Splits at `---` / `...` lines; a marker is blanked, not removed, so lines and columns stay put. */
function splitDocuments(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  let lines: string[] = [];
  let startLine = 1;
  const all = text.split(/\r?\n/);
  all.forEach((line, i) => {
    if (DOC_MARKER.test(line)) {
      if (lines.length) chunks.push({ startLine, text: lines.join('\n') });
      lines = [line.replace(DOC_MARKER, (m) => ' '.repeat(m.length))];
      startLine = i + 1;
    } else {
      lines.push(line);
    }
  });
  if (lines.length) chunks.push({ startLine, text: lines.join('\n') });
  return chunks;
}

/** A parse error at a 0-based line of the chunk. */
class ChunkError extends Error {
  constructor(message: string, readonly line: number) { super(message); }
}

function readChunk(text: string): unknown {
  if (!text.includes('&')) {
    try {
      return load(text, { schema: CORE_SCHEMA });
    } catch (err) {
      const e = err as { reason?: string; mark?: { line?: number }; message: string };
      throw new ChunkError(e.reason ?? e.message.split('\n')[0], e.mark?.line ?? 0);
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ChunkError(e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''), (e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line) - 1);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ChunkError((err as Error).message.split('\n')[0], 0);
  }
}

/** 0-based index of the first line with content (not blank, not a comment). */
function firstContentLine(text: string): number {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  return i < 0 ? 0 : i;
}

export function parseManifest(file: string, text: string): ParsedFile {
  const out: ParsedFile = { objects: [], problems: [] };
  for (const chunk of splitDocuments(text)) {
    let value: unknown;
    try {
      value = readChunk(chunk.text);
    } catch (err) {
      const e = err as ChunkError;
      out.problems.push({ where: `${file}:${chunk.startLine + (e.line ?? 0)}`, message: `does not parse: ${e.message}` });
      continue;
    }
    if (value === null || value === undefined) continue; // an empty document (comments, a trailing ---)
    const where = `${file}:${chunk.startLine + firstContentLine(chunk.text)}`;
    const items = isObj(value) && value.kind === 'List' && Array.isArray(value.items) ? value.items : [value];
    for (const item of items) {
      const problem = shapeProblem(item);
      if (problem) out.problems.push({ where, message: problem });
      else out.objects.push({ object: item as ManifestObject, where });
    }
  }
  return out;
}
