// `portico operator --controller URL (--kubeconfig FILE | --in-cluster | --manifests DIR) [--values FILE] [--listen HOST:PORT]
//   [--leader-election [--lease-duration S] [--renew-deadline S] [--retry-period S]]`
import type { Command } from 'commander';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { loadSettings } from '../../operator/settings/values.js';
import { startOperator, type RunningOperator } from '../../operator/operator.js';
import type { OperatorSettings } from '../../operator/settings/types.js';
import { applyLiveSettings, watchValuesFile } from '../../operator/settings/reload.js';
import type { SnapshotProvider } from '../../operator/source/types.js';
import type { StatusSink } from '../../operator/status/types.js';
import { createMemoryStatusSink } from '../../operator/status/memory.js';
import { leaderTimings, startLeaderElection, type LeaderElection } from '../../operator/leader.js';
import { createPodEvents, podRefFromEnv, type PodEvents } from '../../operator/status/pod-events.js';
import { cniKind } from '../../operator/sync/cni-cidrs.js';
import { staticRouteSyncOn } from '../../operator/sync/static-routes.js';

interface OperatorCliOptions {
  controller: string;
  kubeconfig?: string;
  inCluster?: boolean;
  manifests?: string;
  values?: string;
  listen?: string;
  leaderElection?: boolean;
  leaseDuration?: string;
  renewDeadline?: string;
  retryPeriod?: string;
}

const LEVEL: Record<string, string> = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

export function registerOperator(program: Command): void {
  program.command('operator')
    .description('the operator alone (the AKO role): Kubernetes objects or a manifest folder → controller objects, status back')
    .requiredOption('--controller <url>', 'controller URL, e.g. http://127.0.0.1:9080')
    .option('--kubeconfig <file>', 'watch the cluster of this kubeconfig')
    .option('--in-cluster', 'watch the cluster this pod runs in')
    .option('--manifests <dir>', 'watch a folder of YAML manifests instead of a cluster')
    .option('--values <file>', 'AKO Helm values file (AKOSettings, NetworkSettings, L7Settings, L4Settings, ControllerSettings, …)')
    .option('--listen <host:port>', '/api/status and /metrics address (default 127.0.0.1:<AKOSettings.apiServerPort>)')
    .option('--leader-election', 'with --kubeconfig/--in-cluster: active/passive replicas on the Lease ako-lease-lock in POD_NAMESPACE (identity POD_NAME or the host name)')
    .option('--lease-duration <seconds>', 'leader election: how long a follower waits after the last renewal before taking over (default 15, as AKO)')
    .option('--renew-deadline <seconds>', 'leader election: how long the leader keeps trying to renew before it gives up (default 10; below --lease-duration)')
    .option('--retry-period <seconds>', 'leader election: time between attempts to acquire or renew (default 2; below --renew-deadline)')
    .action(async (o: OperatorCliOptions) => {
      const sources = [o.kubeconfig, o.inCluster, o.manifests].filter(Boolean).length;
      if (sources !== 1) {
        console.error('portico operator: give exactly one of --kubeconfig FILE, --in-cluster, --manifests DIR');
        process.exitCode = 2;
        return;
      }
      const timings = leaderTimings({ leaseDuration: o.leaseDuration, renewDeadline: o.renewDeadline, retryPeriod: o.retryPeriod });
      if ('error' in timings) {
        console.error(`portico operator: ${timings.error}`);
        process.exitCode = 2;
        return;
      }
      const { settings, problems } = loadSettings(o.values);
      const log = pino({ name: 'portico-operator', level: LEVEL[settings.logLevel] ?? 'warn' }, pino.destination(2));
      for (const p of problems) log.warn({ key: p.key }, `values: ${p.key}: ${p.message}`);
      const { username, password, authtoken, certificateAuthorityData } = settings.credentials;
      if (!username || (!password && !authtoken)) {
        console.error('portico operator: controller credentials missing: set avicredentials.username and password (or authtoken) in --values, or PORTICO_USERNAME and PORTICO_PASSWORD (or PORTICO_AUTHTOKEN)');
        // As AKO: a Warning AKOShutdown on the pod says what is missing (secrets only as present/absent).
        if (!o.manifests) await fatalPodEvent(o, `Avi Controller information missing (username: ${username ?? ''}, password: ${password ? '<sensitive>' : ''}, authToken: ${authtoken ? '<sensitive>' : ''}, controller: ${o.controller})`, log);
        process.exitCode = 2;
        return;
      }
      let provider: SnapshotProvider;
      let sink: StatusSink;
      let election: LeaderElection | undefined;
      let becameLeader: (() => void) | undefined;
      let podEvents: PodEvents | undefined;
      const sourceLog = { info: (m: string) => log.info(m), warn: (m: string) => log.warn(m), debug: (m: string) => log.debug(m) };
      if (o.manifests) {
        const { createManifestProvider } = await import('../../operator/source/manifests.js');
        provider = createManifestProvider(o.manifests, { defaultIngController: settings.l7.defaultIngController, pods: settings.l7.serviceType === 'NodePortLocal', logger: sourceLog });
        // Manifest mode: the status the operator would write is kept in memory (`portico status`).
        sink = createMemoryStatusSink();
      } else {
        const { createKubernetesProvider, loadKubeConfig } = await import('../../operator/source/kubernetes.js');
        const { createKubernetesStatusSink } = await import('../../operator/status/kubernetes.js');
        try {
          const kubeConfig = loadKubeConfig({ kubeconfig: o.kubeconfig, inCluster: o.inCluster });
          provider = createKubernetesProvider({ kubeConfig, pods: settings.l7.serviceType === 'NodePortLocal', cniKind: staticRouteSyncOn(settings) ? cniKind(settings.cniPlugin) : undefined, logger: sourceLog });
          sink = createKubernetesStatusSink(kubeConfig, { logger: sourceLog });
          const events = createPodEvents({ sink, pod: podRefFromEnv(), kubeConfig, enabled: () => settings.enableEvents, logger: sourceLog });
          podEvents = events;
          if (o.leaderElection) {
            const identity = process.env.POD_NAME || hostname();
            election = startLeaderElection({
              kubeConfig, namespace: settings.akoNamespace, name: 'ako-lease-lock', identity, logger: sourceLog, ...timings,
              onStartedLeading: () => { log.warn(`${identity} is now the leader`); events.becameLeader(identity); becameLeader?.(); },
              // As AKO: losing leadership ends the process (the pod restarts as a follower).
              onStoppedLeading: async () => {
                log.error(`${identity} lost the leadership: exiting`);
                await events.shutdown('lost the leadership');
                process.exit(1);
              },
            });
          }
        } catch (err) {
          console.error(`portico operator: ${(err as Error).message}`);
          process.exitCode = 2;
          return;
        }
      }
      let op;
      try {
        const ca = certificateAuthorityData && !certificateAuthorityData.includes('-----BEGIN') ? Buffer.from(certificateAuthorityData, 'base64').toString('utf8') : certificateAuthorityData;
        op = await startOperator({
          controller: o.controller, provider, sink, settings, listen: o.listen, username, password, token: authtoken, ca, logger: log,
          ...(election ? { leader: election } : {}), ...(podEvents ? { lifecycle: podEvents } : {}),
        });
      } catch (err) {
        console.error(`portico operator: ${(err as Error).message}`);
        process.exitCode = 1;
        return;
      }
      const running = op;
      becameLeader = () => running.resync();
      if (election?.isLeader()) running.resync();
      console.log(`portico operator listening on ${op.url} (cluster ${settings.clusterName}, controller ${o.controller})`);
      const file = o.values;
      const unwatch = file ? watchValuesFile(file, () => reloadValues(file, settings, log, running, podEvents), { onError: (err) => log.warn(`values file ${file}: ${err.message}`) }) : undefined;
      const stop = () => {
        unwatch?.();
        void Promise.all([op.close(), election?.stop({ release: true })]).then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** The values file changed: apply what can be applied live, name what needs a restart (log, pod Event). */
function reloadValues(file: string, settings: OperatorSettings, log: Logger, op: RunningOperator, events: PodEvents | undefined): void {
  const { settings: next, problems } = loadSettings(file);
  const unreadable = problems.find((p) => p.key === file);
  if (unreadable) {
    log.warn(`values: ${unreadable.message}; the running settings are kept`);
    return;
  }
  const r = applyLiveSettings(settings, next);
  if (r.applied.length === 0 && r.restart.length === 0) return;
  for (const p of problems) log.warn({ key: p.key }, `values: ${p.key}: ${p.message}`);
  if (r.appliedPaths.includes('logLevel')) log.level = LEVEL[settings.logLevel] ?? 'warn';
  if (r.appliedPaths.includes('deleteConfig')) events?.deleteConfigChanged(settings.deleteConfig);
  const parts = [r.applied.length ? `applied: ${r.applied.join(', ')}` : '', r.restart.length ? `needs a restart (not applied): ${r.restart.join(', ')}` : ''].filter(Boolean);
  log.warn({ applied: r.applied, restart: r.restart }, `values file changed; ${parts.join('; ')}`);
  events?.valuesChanged(r.applied, r.restart);
  // A full pass: the controller re-read and every object translated again with the new settings.
  if (r.applied.length) op.resync();
}

/** Records a Warning AKOShutdown on the operator's pod before a fatal exit (cluster mode; best effort). */
async function fatalPodEvent(o: OperatorCliOptions, message: string, log: Logger): Promise<void> {
  try {
    const { loadKubeConfig } = await import('../../operator/source/kubernetes.js');
    const { createKubernetesStatusSink } = await import('../../operator/status/kubernetes.js');
    const kubeConfig = loadKubeConfig({ kubeconfig: o.kubeconfig, inCluster: o.inCluster });
    const logger = { debug: (m: string) => log.debug(m), warn: (m: string) => log.warn(m) };
    await createPodEvents({ sink: createKubernetesStatusSink(kubeConfig, { logger }), pod: podRefFromEnv(), kubeConfig, logger }).shutdown(message, true);
  } catch (err) {
    log.debug(`no AKOShutdown Event: ${(err as Error).message}`);
  }
}
