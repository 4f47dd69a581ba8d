// Where the operator finds its cluster: `--kubeconfig FILE`, `--in-cluster` (the pod's service
// account), or the usual default ($KUBECONFIG, ~/.kube/config, then in-cluster).
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeConfigOptions {
  kubeconfig?: string;
  inCluster?: boolean;
  /** An already loaded config (tests, or a caller that built one). Wins over the other two. */
  kubeConfig?: KubeConfig;
}

export function loadKubeConfig(opts: KubeConfigOptions = {}): KubeConfig {
  if (opts.kubeConfig) return opts.kubeConfig;
  if (opts.kubeconfig && opts.inCluster) throw new Error('--kubeconfig and --in-cluster exclude each other: give one');
  const kc = new KubeConfig();
  if (opts.kubeconfig) {
    try {
      kc.loadFromFile(opts.kubeconfig);
    } catch (err) {
      throw new Error(`--kubeconfig ${opts.kubeconfig}: ${(err as Error).message}`);
    }
  } else if (opts.inCluster) {
    if (!process.env.KUBERNETES_SERVICE_HOST) throw new Error('--in-cluster: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)');
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  if (!kc.getCurrentCluster()) throw new Error('the kubeconfig names no current cluster (set current-context)');
  return kc;
}
