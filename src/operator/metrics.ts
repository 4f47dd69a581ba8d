// The operator's Prometheus metrics (own registry: several operators may share a process in tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly handled = new Gauge({ name: 'portico_operator_objects_handled', help: 'Kubernetes objects the operator handles, by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly owned = new Gauge({ name: 'portico_operator_controller_objects', help: 'Controller objects the operator owns', registers: [this.registry] });
  readonly syncSeconds = new Histogram({
    name: 'portico_operator_sync_duration_seconds', help: 'Duration of one sync pass (translate, REST calls, status)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [this.registry],
  });
  readonly translateSeconds = new Histogram({
    name: 'portico_operator_translate_duration_seconds', help: 'Duration of one translation',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5], registers: [this.registry],
  });
  readonly errors = new Counter({ name: 'portico_operator_controller_errors_total', help: 'Controller errors by class', labelNames: ['class'], registers: [this.registry] });
  readonly writes = new Counter({ name: 'portico_operator_controller_writes_total', help: 'Controller writes by operation', labelNames: ['op'], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'portico_operator_queue_depth', help: 'Sync work waiting (pending change + scheduled retries)', registers: [this.registry] });
  readonly ready = new Gauge({ name: 'portico_operator_ready', help: '1 once the start-up checks passed', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'portico_operator_' });
  }
}
