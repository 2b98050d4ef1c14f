/** Settles with `p`, or rejects with 'aborted' as soon as `signal` aborts (without cancelling `p`). */
export function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T | void> {
  if (!signal) return p;
  return new Promise((resolvePromise, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
