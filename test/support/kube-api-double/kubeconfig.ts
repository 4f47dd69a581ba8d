// A kubeconfig pointing at the double, as a file (for `--kubeconfig`) or a loaded KubeConfig.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export function kubeconfigDocument(server: string, token = 'portico-double', namespace = 'default'): object {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'double', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'double', user: { token } }],
    contexts: [{ name: 'double', context: { cluster: 'double', user: 'double', namespace } }],
    'current-context': 'double',
  };
}

/** Writes the kubeconfig (mode 0600) to `file`, or to a fresh temp dir; returns the path. */
export function writeKubeconfig(server: string, file?: string, token?: string): string {
  const path = file ?? join(mkdtempSync(join(tmpdir(), 'kube-double-')), 'kubeconfig');
  writeFileSync(path, stringify(kubeconfigDocument(server, token)), { mode: 0o600 });
  return path;
}

export function loadKubeConfig(server: string, token?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(kubeconfigDocument(server, token)));
  return kc;
}
