// The health score of a virtual service (0–100) and the factors behind it, in the shape Avi's
// inventory uses: performance score minus anomaly, resources and security penalties.

export interface HealthInput {
  oper_state: string;
  percent_ses_up: number;
  servers_up: number;
  servers_total: number;
  /** Responses and 5xx of the last buckets. */
  responses: number;
  errors_5xx: number;
  /** Highest CPU % of the SEs holding the VS. */
  se_cpu_percent?: number;
  /** Days until the VS's certificates expire (smallest), when it has any. */
  cert_days_left?: number;
}

export interface HealthScore {
  health_score: number;
  performance_score: number;
  anomaly_penalty: number;
  resources_penalty: number;
  security_penalty: number;
  /** Why the score is below 100, one line per factor that took points. */
  factors: string[];
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

export function healthScore(h: HealthInput): HealthScore {
  const factors: string[] = [];
  let performance = 100;
  // Partitioned still serves (on some SEs): scored like up, capped by the share of SEs up.
  if (h.oper_state !== 'OPER_UP' && h.oper_state !== 'OPER_PARTITIONED') {
    performance = 0;
    factors.push(`virtual service is ${h.oper_state}`);
  } else {
    if (h.servers_total > 0 && h.servers_up < h.servers_total) {
      performance = Math.round((100 * h.servers_up) / h.servers_total);
      factors.push(`pool servers up: ${h.servers_up} of ${h.servers_total}`);
    }
    if (h.percent_ses_up < 100) {
      performance = Math.min(performance, h.percent_ses_up);
      factors.push(`service engines up: ${h.percent_ses_up}%`);
    }
  }
  const errorRate = h.responses > 0 ? h.errors_5xx / h.responses : 0;
  const anomaly = Math.round(clamp(errorRate * 100, 0, 50));
  if (anomaly > 0) factors.push(`${(errorRate * 100).toFixed(1)}% of responses were 5xx`);
  const cpu = h.se_cpu_percent ?? 0;
  const resources = Math.round(clamp((cpu - 80) * 1.25, 0, 25));
  if (resources > 0) factors.push(`service engine CPU at ${cpu.toFixed(0)}%`);
  let security = 0;
  if (h.cert_days_left !== undefined && h.cert_days_left < 30) {
    security = h.cert_days_left < 0 ? 25 : 10;
    factors.push(h.cert_days_left < 0 ? 'a certificate has expired' : `a certificate expires in ${Math.floor(h.cert_days_left)} days`);
  }
  return {
    health_score: clamp(performance - anomaly - resources - security, 0, 100),
    performance_score: performance, anomaly_penalty: anomaly, resources_penalty: resources, security_penalty: security, factors,
  };
}
