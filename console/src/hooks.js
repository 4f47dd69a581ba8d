// Data loading for pages: load once, then refresh on a timer (live status without a reload).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** Refresh period; a deployment (or a test) may shorten it with localStorage `portico.pollMs`. */
export function pollPeriod() {
  const v = Number(localStorage.getItem('portico.pollMs'));
  return Number.isFinite(v) && v >= 250 ? v : 5000;
}

/**
 * Runs `load()` now and again one poll period after each run ends, while the page is visible. Keeps the last good data when
 * a refresh fails (the error is shown next to it), and ignores answers to superseded requests.
 */
export function usePoll(load, deps, { live = true } = {}) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const seq = useRef(0);
  const run = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const data = await load();
      if (mine === seq.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    setState({ data: undefined, error: null, loading: true });
    let stopped = false;
    let timer;
    // The next refresh is timed from the end of the last one, so a slow controller is never
    // asked again before it has answered.
    const loop = async () => {
      if (!document.hidden) await run();
      if (!stopped && live) timer = setTimeout(loop, pollPeriod());
    };
    loop();
    return () => { stopped = true; clearTimeout(timer); seq.current++; };
  }, [run]);
  return { ...state, reload: run };
}

/** Current location hash route, e.g. `#/vs/virtualservice-…` → `/vs/virtualservice-…`. */
export function useRoute() {
  const [route, setRoute] = useState(() => location.hash.slice(1) || '/');
  useEffect(() => {
    const on = () => setRoute(location.hash.slice(1) || '/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const navigate = (path) => { location.hash = path; };
