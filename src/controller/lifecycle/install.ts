// Wires the work of issue 6 into a controller: placement (writes on the leader only),
// analytics (collects on every replica, from the SEs every replica knows of) and, when asked, the local cloud's engine processes.
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import type { EngineHost } from '../engines/host.js';
import { engineRegistryOf } from '../engines/routes.js';
import { PlacementManager } from '../placement/manager.js';
import { AnalyticsStore } from '../analytics/store.js';
import { AnalyticsCollector } from '../analytics/collector.js';
import { registerAnalyticsRoutes } from '../analytics/routes.js';
import { RealtimeMetrics } from '../analytics/realtime.js';
import { LocalCloud, type LocalCloudOptions } from './local-cloud.js';

/** The software version of this controller (an SE of another version is flagged). */
const CONTROLLER_VERSION = (() => {
  try { return String(JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')).version); } catch { return 'unknown'; }
})();

export interface LifecycleOptions {
  dataDir: string;
  /** An SE silent this long is down and its virtual services move (default 10 s). */
  seDownTimeoutMs?: number;
  /** Run the engines of the local cloud's SE groups as child processes. */
  localEngines?: Omit<LocalCloudOptions, 'dataDir' | 'isLeader' | 'log'>;
  /** How long a minute of realtime_se_metrics.duration is (default 60 s; tests shorten it). */
  realtimeMinuteMs?: number;
  isLeader: () => boolean;
}

export interface Lifecycle {
  placement: PlacementManager;
  collector: AnalyticsCollector;
  localCloud?: LocalCloud;
  /** Once the controller listens (engines need its URL). */
  started(url: string): void;
}

/** Must run after the engine routes are registered (it uses their registry). */
export function installLifecycle(app: FastifyInstance, host: EngineHost, o: LifecycleOptions): Lifecycle {
  const registry = engineRegistryOf(app);
  if (!registry) throw new Error('installLifecycle: the engine routes are not registered');
  const store = new AnalyticsStore(o.dataDir);
  let collector: AnalyticsCollector | undefined;
  const placement = new PlacementManager(host, registry, {
    seDownTimeoutMs: o.seDownTimeoutMs,
    isLeader: o.isLeader,
    log: app.log,
    onEvent: (e) => collector?.event(Date.now(), e.event_id, e.obj_type, { uuid: e.obj_uuid, name: e.obj_name }, e.reason),
  });
  const realtime = new RealtimeMetrics(host, {
    isLeader: o.isLeader, minuteMs: o.realtimeMinuteMs, log: app.log,
    onEvent: (g, reason) => collector?.event(Date.now(), 'REALTIME_METRICS_OFF', 'serviceenginegroup', g, reason),
  });
  collector = new AnalyticsCollector({ store, registry, objects: () => placement.objects(), realtime, log: app.log });
  registerAnalyticsRoutes(app, { store, collector, placement });
  const localCloud = o.localEngines ? new LocalCloud(host, placement, { ...o.localEngines, dataDir: o.dataDir, isLeader: o.isLeader, log: app.log }) : undefined;
  app.decorate('lifecycle', { placement, collector, localCloud, vsHealth, seState });

  /** The health score of a VS with its factors (inventory, healthscore API). */
  async function vsHealth(uuid: string) {
    const objects = await placement.objects();
    const vs = objects.get('virtualservice')?.get(uuid);
    return vs && collector!.health(vs, objects);
  }

  /** What the controller knows of an SE now: heartbeat age, resources, what it holds. */
  function seState(uuid: string, record: Record<string, unknown>) {
    const st = registry!.engines.get(uuid);
    const report = st?.report;
    const version = typeof record.version === 'string' ? record.version : undefined;
    return {
      // Unheard since this controller started: the record's own se_connected stands.
      ...(st ? { se_connected: registry!.connected(st), heartbeat_age_ms: Date.now() - st.lastHeartbeat } : {}),
      ...(report?.cpu_percent !== undefined ? { cpu_percent: report.cpu_percent } : {}),
      ...(report?.rss_bytes !== undefined ? { memory_bytes: report.rss_bytes } : {}),
      ...(report ? { applied_version: report.applied_version } : {}),
      version_mismatch: version !== undefined && version !== CONTROLLER_VERSION,
      // Its group's realtime_se_metrics is on now (it sends pool/server counters with every heartbeat).
      realtime_metrics: registry!.realtimeGroups?.has(String(record.se_group_ref ?? '')) ?? false,
      virtualservices: (record.placed_vs_uuids as string[] | undefined) ?? [],
      // Legacy active/standby: which of them it holds as standby (VIPs not bound), as placed and as the SE last said.
      standby_virtualservices: (record.standby_vs_uuids as string[] | undefined) ?? [],
      ...(report ? { reported_standby_virtualservices: (report as { standby_vs_uuids?: string[] }).standby_vs_uuids ?? [] } : {}),
    };
  }
  // Engines first, before the server waits on their long-polls (and within the grace a supervisor gives us).
  // Placement and collection stop as shutdown starts: while the server waits for its last
  // requests, refused heartbeats must not mark SEs down and move their virtual services.
  app.addHook('preClose', async () => {
    await localCloud?.close();
    collector!.close();
    await placement.close();
  });
  app.addHook('onClose', async () => { store.close(); });
  return { placement, collector, localCloud, started: (url) => localCloud?.start(url) };
}
