// Leader election between two electors on one Lease in the API double: one leads, the other only
// reads; failover when the leader crashes (lease expiry), when it steps down (release), and when it
// cannot renew. Then the CLI's timings (--lease-duration, --renew-deadline, --retry-period): checked,
// and a short lease giving a fast failover between two `portico operator` processes (measured).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLeaderElection, type LeaderElection } from '../../src/operator/leader.js';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { waitFor } from '../support/kube-api-double/wait.js';
import { runPortico, type CliProcess } from '../support/cli.js';
import { loadChart, renderChart, type Values } from '../../src/packaging/chart.js';

const TIMING = { leaseDurationMs: 1200, renewDeadlineMs: 800, retryPeriodMs: 100 };

describe('leader election on a Lease', () => {
  let double: KubeApiDouble;
  const electors: LeaderElection[] = [];
  const log: string[] = [];

  function elector(identity: string): LeaderElection {
    const e = startLeaderElection({
      kubeConfig: double.kubeConfig(), namespace: 'avi-system', name: 'ako-lease-lock', identity, ...TIMING,
      onStartedLeading: () => { log.push(`${identity} started`); },
      onStoppedLeading: () => { log.push(`${identity} stopped`); },
    });
    electors.push(e);
    return e;
  }

  function lease(): { spec: { holderIdentity?: string; leaseTransitions?: number; leaseDurationSeconds?: number } } {
    return double.get('coordination.k8s.io/v1', 'Lease', 'ako-lease-lock', 'avi-system') as never;
  }

  function writesBy(identity: string): number {
    return double.writes.filter((w) => w.kind === 'Lease' && w.by === 'client' && (w.object as { spec?: { holderIdentity?: string } }).spec?.holderIdentity === identity).length;
  }

  before(async () => { double = await KubeApiDouble.start({ host: '127.31.3.1' }); });
  after(async () => {
    for (const e of electors) await e.stop({ release: false });
    await double?.stop();
  });

  it('one replica leads and renews; the other follows and writes nothing', async () => {
    const a = elector('ako-0');
    await waitFor('ako-0 leading', () => a.isLeader());
    const b = elector('ako-1');
    await waitFor('ako-1 seeing the leader', () => b.leader() === 'ako-0');
    const renewals = writesBy('ako-0');
    await waitFor('three more renewals', () => writesBy('ako-0') >= renewals + 3);
    assert.equal(b.isLeader(), false);
    assert.equal(writesBy('ako-1'), 0, 'the follower only reads');
    assert.equal(lease().spec.holderIdentity, 'ako-0');
    assert.equal(lease().spec.leaseDurationSeconds, 2);
    assert.deepEqual(log, ['ako-0 started']);
  });

  it('fails over when the leader crashes (the lease expires)', async () => {
    const [a, b] = electors;
    await a.stop({ release: false });
    await waitFor('ako-1 leading', () => b.isLeader(), 5000);
    assert.equal(lease().spec.holderIdentity, 'ako-1');
    assert.equal(lease().spec.leaseTransitions, 1);
    assert.deepEqual(log, ['ako-0 started', 'ako-0 stopped', 'ako-1 started']);
  });

  it('fails over at once when the leader steps down (releases the lease)', async () => {
    const b = electors[1];
    const c = elector('ako-2');
    await waitFor('ako-2 seeing the leader', () => c.leader() === 'ako-1');
    await b.stop();
    await waitFor('ako-2 leading', () => c.isLeader(), 1000);
    assert.equal(lease().spec.holderIdentity, 'ako-2');
  });

  it('a leader that cannot renew for the renew deadline stops leading; it leads again once the API answers', async () => {
    const c = electors[2];
    double.failNext({ path: '/leases/ako-lease-lock', code: 500, count: Infinity });
    await waitFor('ako-2 giving up', () => !c.isLeader(), 3000);
    assert.ok(log.includes('ako-2 stopped'));
    double.clearFailures();
    await waitFor('ako-2 leading again', () => c.isLeader(), 3000);
  });

  it('keeps renewing while onStartedLeading is still running', async () => {
    let finish: () => void = () => undefined;
    const slow = startLeaderElection({
      kubeConfig: double.kubeConfig(), namespace: 'avi-system', name: 'slow-start', identity: 'slow', ...TIMING,
      onStartedLeading: () => new Promise<void>((resolve) => { finish = resolve; }),
      onStoppedLeading: () => undefined,
    });
    electors.push(slow);
    await waitFor('slow leading', () => slow.isLeader());
    const renewals = double.countWrites({ kind: 'Lease', name: 'slow-start' });
    await waitFor('renewals during a start that has not finished', () => double.countWrites({ kind: 'Lease', name: 'slow-start' }) >= renewals + 3);
    finish();
  });

  it('rejects timings that cannot work', () => {
    assert.throws(() => startLeaderElection({
      kubeConfig: double.kubeConfig(), namespace: 'x', name: 'y', identity: 'z', leaseDurationMs: 1000, renewDeadlineMs: 2000,
      onStartedLeading: () => undefined, onStoppedLeading: () => undefined,
    }), /lease duration \(1 s\) must exceed the renew deadline \(2 s\)/);
  });
});

describe('leader election: a race for a new Lease', () => {
  it('gives exactly one leader when two replicas start at once', async () => {
    const double = await KubeApiDouble.start({ host: '127.31.3.2' });
    const leading = new Set<string>();
    const make = (identity: string): LeaderElection => startLeaderElection({
      kubeConfig: double.kubeConfig(), namespace: 'avi-system', name: 'race', identity, ...TIMING,
      onStartedLeading: () => { leading.add(identity); }, onStoppedLeading: () => { leading.delete(identity); },
    });
    const a = make('a');
    const b = make('b');
    try {
      await waitFor('a leader', () => a.isLeader() || b.isLeader());
      const leader = a.isLeader() ? 'a' : 'b';
      const renewals = double.countWrites({ kind: 'Lease' });
      await waitFor('a few renewals', () => double.countWrites({ kind: 'Lease' }) >= renewals + 3);
      assert.deepEqual([...leading], [leader]);
      assert.equal(a.leader(), leader);
      assert.equal(b.leader(), leader);
    } finally {
      await a.stop({ release: false });
      await b.stop({ release: false });
      await double.stop();
    }
  });
});

describe('portico operator: leader election timings from the CLI', () => {
  const ENV = { PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: 'not-used-here', POD_NAMESPACE: 'avi-system' };
  // No controller is needed to elect a leader: the start-up checks just keep retrying meanwhile.
  const CONTROLLER = 'http://127.104.3.9:9';

  it('rejects timings that cannot work, naming the flags', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--lease-duration', '2', '--renew-deadline', '3'], /lease duration \(2 s\) must exceed the renew deadline \(3 s\)/],
      [['--renew-deadline', '1', '--retry-period', '1'], /renew deadline \(1 s\) must exceed the retry period \(1 s\)/],
      [['--retry-period', 'soon'], /--retry-period "soon": expected a number of seconds/],
      [['--lease-duration', '-5'], /--lease-duration "-5": expected a number of seconds/],
    ];
    for (const [flags, message] of cases) {
      const p = runPortico(['operator', '--controller', CONTROLLER, '--manifests', '/nonexistent', '--leader-election', ...flags], { env: ENV });
      try {
        assert.equal(await p.exited, 2, flags.join(' '));
        assert.match(p.lines.join('\n'), message);
      } finally {
        await p.stop();
      }
    }
  });

  it('the Helm chart passes leaderElection timings as these flags (HA only)', () => {
    const chart = loadChart(new URL('../../../charts/portico-operator', import.meta.url).pathname);
    const args = (values: Values) => (renderChart(chart, { values: [values] }).docs.find((d) => d.object.kind === 'StatefulSet')!.object as any).spec.template.spec.containers[0].args as string[];
    const timings = { leaderElection: { leaseDuration: 4, renewDeadline: '3', retryPeriod: 0.5 } };
    assert.deepEqual(args({ replicaCount: 2, ...timings }).slice(-7), ['--lease-duration', '4', '--renew-deadline', '3', '--retry-period', '0.5', '--leader-election']);
    assert.ok(!args({ replicaCount: 2 }).includes('--lease-duration'), 'empty: the defaults');
    assert.ok(!args({ replicaCount: 1, ...timings }).includes('--lease-duration'), 'one replica: no election');
  });

  it('a short lease gives a fast failover when the leader is killed (-9)', { timeout: 60_000 }, async () => {
    const double = await KubeApiDouble.start({ host: '127.104.3.1' });
    const procs: CliProcess[] = [];
    try {
      const kubeconfig = double.writeKubeconfig();
      for (const pod of ['ako-0', 'ako-1']) double.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace: 'avi-system' }, spec: { containers: [{ name: 'ako', image: 'portico' }] } });
      const start = (pod: string) => {
        const p = runPortico([
          'operator', '--controller', CONTROLLER, '--kubeconfig', kubeconfig, '--listen', '127.104.3.2:0',
          '--leader-election', '--lease-duration', '1', '--renew-deadline', '0.6', '--retry-period', '0.2',
        ], { env: { ...ENV, POD_NAME: pod } });
        procs.push(p);
        return p;
      };
      const a = start('ako-0');
      await a.waitForLine(/ako-0 is now the leader/, 20_000);
      const b = start('ako-1');
      await b.waitForLine(/listening on/, 20_000);
      const lease = () => (double.get('coordination.k8s.io/v1', 'Lease', 'ako-lease-lock', 'avi-system') as unknown as { spec: { holderIdentity?: string; leaseDurationSeconds?: number } }).spec;
      assert.equal(lease().holderIdentity, 'ako-0');
      assert.equal(lease().leaseDurationSeconds, 1, 'the Lease carries the --lease-duration');

      const killed = performance.now();
      a.proc.kill('SIGKILL');
      await b.waitForLine(/ako-1 is now the leader/, 20_000);
      const failoverMs = performance.now() - killed;
      console.log(`# failover after kill -9 with --lease-duration 1 --renew-deadline 0.6 --retry-period 0.2: ${failoverMs.toFixed(0)} ms (defaults 15/10/2 s: about 15 s)`);
      assert.equal(lease().holderIdentity, 'ako-1');
      await waitFor('a LeaderElection Event on pod ako-1', () => (double.list('v1', 'Event', 'avi-system') as unknown as Array<{ reason: string; message: string; involvedObject: { name: string } }>)
        .find((e) => e.reason === 'LeaderElection' && e.involvedObject.name === 'ako-1' && e.message === 'ako-1 became leader'));
    } finally {
      for (const p of procs) await p.stop();
      await double.stop();
    }
  });
});
