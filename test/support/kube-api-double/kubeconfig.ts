// A kubeconfig pointing at the double, as a file (for `--kubeconfig`) or a loaded KubeConfig.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

/** A kubeconfig for `server`; with `caPem` (an HTTPS double) the certificate is verified against it. */
export function kubeconfigDocument(server: string, token = 'portico-double', caPem?: string, namespace = 'default'): object {
  const cluster = caPem ? { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } : { server, 'insecure-skip-tls-verify': true };
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'double', cluster }],
    users: [{ name: 'double', user: { token } }],
    contexts: [{ name: 'double', context: { cluster: 'double', user: 'double', namespace } }],
    'current-context': 'double',
  };
}

/** Writes the kubeconfig (mode 0600) to `file`, or to a fresh temp dir; returns the path. */
export function writeKubeconfig(server: string, file?: string, token?: string, caPem?: string): string {
  const path = file ?? join(mkdtempSync(join(tmpdir(), 'kube-double-')), 'kubeconfig');
  writeFileSync(path, stringify(kubeconfigDocument(server, token, caPem)), { mode: 0o600 });
  return path;
}

export function loadKubeConfig(server: string, token?: string, caPem?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(kubeconfigDocument(server, token, caPem)));
  return kc;
}
