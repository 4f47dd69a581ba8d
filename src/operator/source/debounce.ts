// Coalesces bursts of changes into one call: `delayMs` after the last change, but never later
// than `maxWaitMs` after the first one, so a steady trickle of changes still gets through.

export interface Debouncer {
  /** Something changed: schedule a call. */
  poke(): void;
  /** Call now if something is pending. */
  flush(): void;
  cancel(): void;
}

export function debounce(fn: () => void, delayMs: number, maxWaitMs = delayMs * 10): Debouncer {
  let timer: NodeJS.Timeout | undefined;
  let firstPoke = 0;
  const fire = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    firstPoke = 0;
    fn();
  };
  return {
    poke() {
      const now = Date.now();
      if (!firstPoke) firstPoke = now;
      if (timer) clearTimeout(timer);
      const wait = Math.max(0, Math.min(delayMs, firstPoke + maxWaitMs - now));
      timer = setTimeout(fire, wait);
    },
    flush() {
      if (timer) fire();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      firstPoke = 0;
    },
  };
}
