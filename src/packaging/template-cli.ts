// `helm template` without Helm: prints a chart's manifests for the given values files.
//   node dist/src/packaging/template-cli.js charts/portico-operator -f my-values.yaml \
//        [--namespace avi-system] [--name ako] [--include-crds] [--kube-version v1.30.0]
// Exit 1 with the reason (values that break the schema, a template error) on bad input.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadChart, renderChart, toManifestText, RenderError, ValuesError, type Values } from './chart.js';

function usage(): never {
  console.error('usage: template-cli CHART_DIR [-f VALUES.yaml ...] [--namespace NS] [--name RELEASE] [--include-crds] [--kube-version v1.30.0]');
  process.exit(2);
}

function main(argv: string[]): void {
  const files: string[] = [];
  let dir: string | undefined;
  let namespace: string | undefined;
  let name: string | undefined;
  let includeCrds = false;
  let kubeVersion: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-f' || a === '--values') files.push(argv[++i] ?? usage());
    else if (a === '-n' || a === '--namespace') namespace = argv[++i] ?? usage();
    else if (a === '--name') name = argv[++i] ?? usage();
    else if (a === '--include-crds') includeCrds = true;
    else if (a === '--kube-version') kubeVersion = argv[++i] ?? usage();
    else if (a.startsWith('-')) usage();
    else dir = a;
  }
  if (!dir) usage();
  const values = files.map((f) => {
    let v: unknown;
    try { v = parseYaml(readFileSync(f, 'utf8')); } catch (e) { throw new ValuesError(f, [(e as Error).message.split('\n')[0]!]); }
    if (v !== null && (typeof v !== 'object' || Array.isArray(v))) throw new ValuesError(f, ['the values file must be a mapping of keys']);
    return (v ?? {}) as Values;
  });
  const out = renderChart(loadChart(dir), { values, namespace, releaseName: name, includeCrds, kubeVersion });
  process.stdout.write(toManifestText(out.docs, (o) => stringifyYaml(o)));
  if (out.notes.trim()) process.stderr.write(`\nNOTES:\n${out.notes}\n`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  if (e instanceof ValuesError || e instanceof RenderError) {
    console.error(`Error: ${(e as Error).message}`);
    process.exit(1);
  }
  throw e;
}
