#!/usr/bin/env node
// `npm run soak`: the long versions of the reliability and security suites (docs/reliability.md):
// 10,000 API fuzz cases, 1,000 config changes under load, a longer controller outage,
// 600 rounds of bad data-plane input, 5,000 generated HTTP/2 frame sequences.
// Any PORTICO_* variable already set wins over these defaults.
import { spawnSync } from 'node:child_process';

const env = {
  PORTICO_FUZZ_CASES: '10000',
  PORTICO_CHURN_CHANGES: '1000',
  PORTICO_OUTAGE_S: '60',
  PORTICO_DATAPLANE_ROUNDS: '600',
  PORTICO_H2_FUZZ_CASES: '5000',
  ...process.env,
  PORTICO_TEST_CONCURRENCY: process.env.PORTICO_TEST_CONCURRENCY ?? '1',
};
const r = spawnSync(process.execPath, ['scripts/run-tests.js', 'test/reliability/', 'test/security/'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
