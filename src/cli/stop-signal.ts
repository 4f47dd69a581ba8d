// SIGINT/SIGTERM handling for the long-running commands (`up`, `demo`): the handler is in place
// before anything starts, so a signal during start-up is not lost; the stop runs once, then exits 0.

export interface StopSignal {
  /** A signal came while the command was still starting. */
  readonly requested: boolean;
  /** Runs the stop now (once) and exits 0. */
  run(): Promise<void>;
  /** Start-up is over: from now on a signal stops at once. */
  ready(): void;
}

export function onStopSignal(stop: () => Promise<void>): StopSignal {
  let ready = false;
  let requested = false;
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= (async () => {
      try {
        await stop();
      } finally {
        process.exit(0);
      }
    })();
    return running;
  };
  const handler = () => {
    if (ready) void run();
    else requested = true;
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get requested() { return requested; },
    run,
    ready() { ready = true; },
  };
}
