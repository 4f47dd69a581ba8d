// `helm template` for the charts in charts/: loads a chart, merges values files over its
// values.yaml (Helm's coalescing: maps merge, null deletes), checks them against
// values.schema.json, renders every template and splits the output into documents.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { TemplateSet } from './gotemplate/exec.js';
import { helmFuncs } from './gotemplate/funcs.js';
import { parseTemplate, TemplateError, type Parsed } from './gotemplate/parse.js';
import { versionSatisfies } from './semver.js';

export type Values = Record<string, unknown>;

/** Helm's check of Chart.yaml kubeVersion against the cluster version. */
export const kubeVersionSatisfies = versionSatisfies;

export interface Chart {
  dir: string;
  /** Chart.yaml as written (apiVersion, name, version, appVersion, …). */
  meta: Record<string, unknown>;
  values: Values;
  schema: object | null;
  /** templates/<file> → source, in name order. */
  templates: Map<string, string>;
  /** crds/<file> → source (never templated, as in Helm). */
  crds: Map<string, string>;
}

export interface RenderOptions {
  /** Values documents applied in order over the chart's values.yaml (like repeated `-f`). */
  values?: Values[];
  releaseName?: string;
  namespace?: string;
  /** `Capabilities.APIVersions`: group/version and group/version/Kind the cluster serves. */
  apiVersions?: string[];
  kubeVersion?: string;
  includeCrds?: boolean;
}

export interface RenderedDoc {
  /** `<chart>/templates/<file>` or `<chart>/crds/<file>`. */
  source: string;
  object: Record<string, unknown>;
}

export interface Rendered {
  docs: RenderedDoc[];
  notes: string;
  /** The merged values the templates saw. */
  values: Values;
}

/** Values that break values.schema.json; `problems` name each place (`AKOSettings.logLevel: …`). */
export class ValuesError extends Error {
  constructor(readonly chart: string, readonly problems: string[]) {
    super(`values don't meet the specifications of the schema(s) in the following chart(s):\n${chart}:\n${problems.map((p) => `- ${p}`).join('\n')}`);
  }
}

/** A template that fails to render or renders invalid YAML; the message names the file and line. */
export class RenderError extends Error {}

/** The API versions a current cluster (1.30) serves, enough for Capabilities checks. */
export const DEFAULT_API_VERSIONS = [
  'v1', 'apps/v1', 'rbac.authorization.k8s.io/v1', 'networking.k8s.io/v1', 'coordination.k8s.io/v1',
  'apiextensions.k8s.io/v1', 'discovery.k8s.io/v1', 'policy/v1', 'events.k8s.io/v1',
  'networking.k8s.io/v1/IngressClass', 'networking.k8s.io/v1/Ingress', 'apps/v1/StatefulSet',
];

export function loadChart(dir: string): Chart {
  const read = (f: string) => {
    try { return readFileSync(join(dir, f), 'utf8'); } catch (e) { throw new RenderError(`${join(dir, f)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (is this a chart folder?)' : (e as Error).message}`); }
  };
  const parsed = <T>(f: string, parse: (text: string) => T): T => {
    const text = read(f);
    try { return parse(text); } catch (e) { throw new RenderError(`${join(dir, f)}: ${(e as Error).message.split('\n')[0]}`); }
  };
  const listDir = (sub: string) => {
    const p = join(dir, sub);
    const m = new Map<string, string>();
    if (!existsSync(p)) return m;
    for (const f of readdirSync(p, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort()) m.set(f, read(join(sub, f)));
    return m;
  };
  const meta = parsed('Chart.yaml', (t) => parseYaml(t) as Record<string, unknown>);
  if (!meta || typeof meta.name !== 'string') throw new RenderError(`${dir}/Chart.yaml: "name" is required`);
  const values = existsSync(join(dir, 'values.yaml')) ? parsed('values.yaml', (t) => (parseYaml(t) ?? {}) as Values) : {};
  const schema = existsSync(join(dir, 'values.schema.json')) ? parsed('values.schema.json', (t) => JSON.parse(t) as object) : null;
  return { dir, meta, values, schema, templates: listDir('templates'), crds: listDir('crds') };
}

function isMap(v: unknown): v is Values {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Helm's CoalesceValues: `over` wins; maps merge key by key; a null in `over` removes the key. */
export function coalesceValues(base: Values, over: Values): Values {
  const out: Values = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = coalesceValues(out[k] as Values, v);
    else out[k] = structuredClone(v);
  }
  return out;
}

/** Checks merged values against the chart's schema; throws ValuesError listing every problem. */
const compiledSchemas = new WeakMap<object, ValidateFunction>();

export function validateValues(chart: Chart, values: Values): void {
  if (!chart.schema) return;
  let validate = compiledSchemas.get(chart.schema);
  if (!validate) {
    validate = new Ajv({ allErrors: true, strict: false }).compile(chart.schema);
    compiledSchemas.set(chart.schema, validate);
  }
  if (validate(values)) return;
  const problems = (validate.errors ?? []).map((e) => {
    const at = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      return `${at ? `${at}: ` : ''}additional property "${extra}" is not allowed`;
    }
    if (e.keyword === 'enum') return `${at || '(root)'}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.map((x) => JSON.stringify(x)).join(', ')})`;
    return `${at || '(root)'}: ${e.message}`;
  });
  throw new ValuesError(String(chart.meta.name), [...new Set(problems)]);
}

/** Chart.yaml keys as Helm exposes them to templates (.Chart.Name, .Chart.AppVersion, …). */
function chartObject(meta: Record<string, unknown>): Values {
  const o: Values = {};
  for (const [k, v] of Object.entries(meta)) o[k.charAt(0).toUpperCase() + k.slice(1)] = v;
  return o;
}

/** What never changes between renders of one loaded chart: template parse trees and CRD documents. */
const chartMemo = new WeakMap<Chart, { templates: Map<string, Parsed>; crds: RenderedDoc[] }>();

function parsedChart(chart: Chart): { templates: Map<string, Parsed>; crds: RenderedDoc[] } {
  let memo = chartMemo.get(chart);
  if (!memo) {
    const name = String(chart.meta.name);
    const templates = new Map<string, Parsed>();
    try {
      for (const [f, src] of chart.templates) templates.set(f, parseTemplate(src, `${name}/templates/${f}`));
    } catch (e) {
      throw new RenderError(`parse error: ${(e as Error).message}`);
    }
    const crds = [...chart.crds].flatMap(([f, src]) => splitDocs(`${name}/crds/${f}`, src));
    memo = { templates, crds };
    chartMemo.set(chart, memo);
  }
  return memo;
}

export function renderChart(chart: Chart, opts: RenderOptions = {}): Rendered {
  const kubeVersion = opts.kubeVersion ?? 'v1.30.0';
  let fits = true;
  try {
    if (typeof chart.meta.kubeVersion === 'string') fits = versionSatisfies(chart.meta.kubeVersion, kubeVersion);
  } catch (e) {
    throw new RenderError(`Chart.yaml kubeVersion: ${(e as Error).message}`);
  }
  if (!fits) {
    throw new RenderError(`chart requires kubeVersion: ${chart.meta.kubeVersion} which is incompatible with Kubernetes ${kubeVersion}`);
  }
  let values = chart.values;
  for (const v of opts.values ?? []) values = coalesceValues(values, v ?? {});
  validateValues(chart, values);
  const name = String(chart.meta.name);
  const apiVersions = new Set(opts.apiVersions ?? DEFAULT_API_VERSIONS);
  const kube = kubeVersion.replace(/^v/, '');
  const [major, minor] = kube.split('.');
  const set = new TemplateSet(helmFuncs);
  const files = [...chart.templates.keys()];
  const memo = parsedChart(chart);
  const top: Values = {
    Values: values,
    Release: { Name: opts.releaseName ?? 'ako', Namespace: opts.namespace ?? 'avi-system', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 },
    Chart: chartObject(chart.meta),
    Capabilities: {
      KubeVersion: { Version: `v${kube}`, Major: major, Minor: minor, GitVersion: `v${kube}` },
      APIVersions: { Has: (v: unknown) => apiVersions.has(String(v)) },
      HelmVersion: { Version: 'v3.16.0' },
    },
    Template: { Name: '', BasePath: `${name}/templates` },
  };
  for (const f of files) set.addParsed(`${name}/templates/${f}`, memo.templates.get(f)!);
  const docs: RenderedDoc[] = [];
  let notes = '';
  if (opts.includeCrds) docs.push(...memo.crds.map((d) => ({ source: d.source, object: structuredClone(d.object) })));
  for (const f of files) {
    // Files starting with "_" hold helpers only; NOTES.txt is shown, not applied.
    if (f.startsWith('_')) continue;
    const source = `${name}/templates/${f}`;
    let text: string;
    try {
      text = set.execute(source, { ...top, Template: { Name: source, BasePath: `${name}/templates` } });
    } catch (e) {
      if (e instanceof TemplateError) throw new RenderError(e.message);
      throw e;
    }
    if (f === 'NOTES.txt') { notes = text; continue; }
    if (!/\.(ya?ml|json)$/.test(f)) continue;
    docs.push(...splitDocs(source, text));
  }
  return { docs, notes, values };
}

/** Splits a rendered file into its YAML documents, dropping empty ones (as Helm does). */
export function splitDocs(source: string, text: string): RenderedDoc[] {
  const out: RenderedDoc[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new RenderError(`${source}: rendered YAML is invalid: ${doc.errors[0]!.message}`);
    const object = doc.toJS() as unknown;
    if (object === null || object === undefined) continue;
    if (!isMap(object)) throw new RenderError(`${source}: a rendered document is not a mapping`);
    out.push({ source, object });
  }
  return out;
}

/** The documents as `helm template` prints them. */
export function toManifestText(docs: RenderedDoc[], stringify: (o: unknown) => string): string {
  return docs.map((d) => `---\n# Source: ${d.source}\n${stringify(d.object)}`).join('');
}
