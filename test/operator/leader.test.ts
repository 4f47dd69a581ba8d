// Leader election between two electors on one Lease in the API double: one leads, the other only
// reads; failover when the leader crashes (lease expiry), when it steps down (release), and when it
// cannot renew.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLeaderElection, type LeaderElection } from '../../src/operator/leader.js';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { waitFor } from '../support/kube-api-double/wait.js';

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
    }), /lease duration must exceed the renew deadline/);
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
