// WAL checkpoints on a worker thread. A checkpoint copies the WAL's pages into the database file
// and fsyncs both: done by the writer connection (SQLite's autocheckpoint) it stops the event
// loop for the whole I/O, every ~10k pages of a burst of writes. The worker's own connection
// runs PASSIVE checkpoints (they never block the writer or readers) after commits, at most one
// at a time and one per MIN_GAP_MS; the writer keeps its autocheckpoint as a fallback, so a
// worker that died only brings back the old cost.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

const MIN_GAP_MS = 200;

// CommonJS (an eval'd worker): better-sqlite3 is loaded by its resolved path.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); process.exit(0); }
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next one catches up */ }
  parentPort.postMessage('done');
});
`;

export class Checkpointer {
  private readonly worker: Worker | undefined;
  private busy = false;
  private pending = false;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private exited = false;

  constructor(file: string) {
    try {
      const module = createRequire(import.meta.url).resolve('better-sqlite3');
      this.worker = new Worker(WORKER, { eval: true, workerData: { file, module } });
      this.worker.unref();
      this.worker.on('exit', () => { this.exited = true; });
      this.worker.on('message', () => { this.busy = false; this.last = Date.now(); if (this.pending) this.committed(); });
      // A failed worker: the writer's own autocheckpoint goes on doing the job.
      this.worker.on('error', () => { this.closed = true; });
    } catch {
      this.worker = undefined;
    }
  }

  /** Called after a COMMIT: a checkpoint soon, never two at once. */
  committed(): void {
    if (!this.worker || this.closed) return;
    this.pending = true;
    if (this.busy || this.timer) return;
    const wait = this.last + MIN_GAP_MS - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => { this.timer = undefined; this.committed(); }, wait);
      this.timer.unref();
      return;
    }
    this.pending = false;
    this.busy = true;
    this.worker.postMessage('checkpoint');
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    if (!this.worker || this.exited) return;
    const exited = new Promise<void>((r) => this.worker!.once('exit', () => r()));
    this.worker.postMessage('close');
    const stop = setTimeout(() => void this.worker!.terminate(), 5_000);
    await exited;
    clearTimeout(stop);
  }
}
