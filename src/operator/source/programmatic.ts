// A snapshot provider fed by code: the caller pushes whole snapshots (bench, tests, an embedding
// program). Like the other providers it hands a new Map for a kind that changed and keeps the
// objects that did not (the incremental translator finds changes by identity).
import type { ClusterSnapshot, SnapshotProvider } from './types.js';

export interface ProgrammaticProvider extends SnapshotProvider {
  /** Delivers `s` now (or at start when not started yet). */
  push(s: ClusterSnapshot): void;
}

export function createProgrammaticProvider(): ProgrammaticProvider {
  let cb: ((s: ClusterSnapshot) => void) | undefined;
  let pending: ClusterSnapshot | undefined;
  return {
    async start(onChange) { cb = (s) => onChange(s, []); if (pending) cb(pending); },
    async stop() { cb = undefined; },
    push(s) { pending = s; cb?.(s); },
  };
}
