// AKO's Events on its own pod (ako-behaviour.md §1.4), where `kubectl describe pod` shows what the
// operator as a whole is doing: start-up checks passed (`ValidatedUserInput`, then `AKOReady`, or
// `AKODeleteConfigSet` when deleteConfig is on) or failed (Warning `SyncDisabled`), statuses synced
// at boot (`StatusSync`), leadership taken (`LeaderElection`), deleteConfig done, shutdown.
// Reasons and messages are AKO's (internal/lib/constants.go). The pod is POD_NAME/POD_NAMESPACE,
// as AKO's Helm chart sets them; without them (not in a pod) nothing is recorded.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ObjectRef, StatusEvent, StatusSink } from './types.js';

/** What the operator loop reports about itself (all optional to call; each records at most one Event). */
export interface OperatorLifecycle {
  checksPassed(deleteConfig: boolean): void;
  checkFailed(problem: string): void;
  statusSynced(): void;
  deleteConfigDone(): void;
}

export interface PodEvents extends OperatorLifecycle {
  becameLeader(identity: string): void;
  /** The values file changed: keys applied live, keys that wait for a restart (Portico's own reasons). */
  valuesChanged(applied: string[], restart: string[]): void;
  /** deleteConfig turned on or off in the values file while running (AKO's reasons). */
  deleteConfigChanged(on: boolean): void;
  /**
   * Records a Warning `AKOShutdown` before a fatal exit and waits for it (and every Event before
   * it) to be written. `verbatim`: `why` is the whole message (AKO's own wording).
   */
  shutdown(why: string, verbatim?: boolean): Promise<void>;
  /** Resolves when every Event recorded so far is written (tests). */
  flush(): Promise<void>;
}

export interface PodEventsOptions {
  sink: StatusSink;
  /** POD_NAME / POD_NAMESPACE; missing → a recorder that records nothing. */
  pod?: { name?: string; namespace?: string };
  /** To read the pod's uid, so `kubectl describe pod` lists the Events (it selects them by uid). */
  kubeConfig?: KubeConfig;
  /** AKOSettings.enableEvents, read at each Event. */
  enabled?: () => boolean;
  logger?: { debug(msg: string): void; warn(msg: string): void };
}

const NONE: PodEvents = {
  checksPassed: () => undefined, checkFailed: () => undefined, statusSynced: () => undefined, deleteConfigDone: () => undefined,
  becameLeader: () => undefined, valuesChanged: () => undefined, deleteConfigChanged: () => undefined, shutdown: async () => undefined, flush: async () => undefined,
};

export function podRefFromEnv(env: NodeJS.ProcessEnv = process.env): { name?: string; namespace?: string } {
  return { name: env.POD_NAME || undefined, namespace: env.POD_NAMESPACE || undefined };
}

export function createPodEvents(opts: PodEventsOptions): PodEvents {
  const { name, namespace } = opts.pod ?? {};
  if (!name || !namespace) {
    opts.logger?.debug('not in a pod (POD_NAME / POD_NAMESPACE unset): no Events on the operator pod');
    return NONE;
  }
  let ref: Promise<ObjectRef> | undefined;
  const podRef = (): Promise<ObjectRef> => {
    ref ??= (async () => {
      const base: ObjectRef = { kind: 'Pod', apiVersion: 'v1', namespace, name };
      if (!opts.kubeConfig) return base;
      try {
        const pod = await opts.kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ name, namespace });
        return pod.metadata?.uid ? { ...base, uid: pod.metadata.uid } : base;
      } catch (err) {
        opts.logger?.debug(`pod ${namespace}/${name} not readable (${(err as Error).message?.split('\n')[0]}): its Events carry no uid`);
        return base;
      }
    })();
    return ref;
  };
  // One after the other, so they appear in the order they happened.
  let chain: Promise<void> = Promise.resolve();
  const record = (event: StatusEvent): Promise<void> => {
    if (opts.enabled && !opts.enabled()) return chain;
    chain = chain.then(async () => {
      try {
        await opts.sink.event(await podRef(), event);
      } catch (err) {
        opts.logger?.warn(`could not record ${event.reason} on pod ${namespace}/${name}: ${(err as Error).message}`);
      }
    });
    return chain;
  };
  const normal = (reason: string, message: string) => void record({ type: 'Normal', reason, message });
  return {
    checksPassed(deleteConfig) {
      normal('ValidatedUserInput', 'User input validation completed.');
      if (deleteConfig) normal('AKODeleteConfigSet', 'AKO is in disable sync state');
      else normal('AKOReady', 'AKO is now listening for Object updates in the cluster');
    },
    checkFailed: (problem) => void record({ type: 'Warning', reason: 'SyncDisabled', message: `Invalid user input ${problem}` }),
    statusSynced: () => normal('StatusSync', 'Status syncing completed'),
    deleteConfigDone: () => normal('AKODeleteConfigDone', 'AKO has removed all objects from Avi Controller'),
    becameLeader: (identity) => normal('LeaderElection', `${identity} became leader`),
    valuesChanged(applied, restart) {
      if (applied.length) normal('ValuesApplied', `values file changed; applied: ${applied.join(', ')}`);
      if (restart.length) void record({ type: 'Warning', reason: 'RestartNeeded', message: `values file changed; these take effect after a restart of the operator: ${restart.join(', ')}` });
    },
    deleteConfigChanged(on) {
      if (on) normal('AKODeleteConfigSet', 'DeleteConfig set in configmap, sync would be disabled');
      else normal('AKODeleteConfigUnset', 'DeleteConfig unset in configmap, sync would be enabled');
    },
    // AKO records AKOShutdown as a Warning right before a fatal exit.
    shutdown: (why, verbatim) => record({ type: 'Warning', reason: 'AKOShutdown', message: verbatim ? why : `AKO is shutting down: ${why}` }),
    flush: () => chain,
  };
}
