import { useCallback, useEffect, useRef, useState } from 'react';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads with `load` when `deps` change and, with `refreshMs`, again every
 * `refreshMs` while the tab is visible: polling stops when the tab is hidden
 * and resumes (with an immediate refresh) when it is shown again.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    loadRef.current().then(
      (d) => {
        if (cancelled) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (cancelled) return;
        setError(e instanceof Error ? e : new Error(String(e)));
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
    // deps are the caller's: reload when they change, or on a tick
  }, [...deps, tick]);

  useEffect(() => {
    if (!refreshMs) return;
    let timer: number | undefined;
    const start = () => {
      stop();
      if (document.visibilityState === 'visible') timer = window.setInterval(() => setTick((t) => t + 1), refreshMs);
    };
    const stop = () => {
      if (timer !== undefined) window.clearInterval(timer);
      timer = undefined;
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible') {
        setTick((t) => t + 1);
        start();
      } else stop();
    };
    start();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      stop();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [refreshMs]);

  return { data, error, loading, reload };
}
