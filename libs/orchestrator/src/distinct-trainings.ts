/**
 * Orders proposed points so that the first `n` start distinct trainings: a point whose training
 * is already running (or already chosen in this batch) would only wait for it, idling a worker,
 * so it goes after every point that starts something new. Order is otherwise kept (the strategy's
 * preference), and nothing is dropped.
 */
export function preferDistinctTrainings<P>(
  points: readonly P[],
  keyOf: (point: P) => string,
  running: ReadonlySet<string>,
): P[] {
  const taken = new Set(running);
  const first: P[] = [];
  const later: P[] = [];
  for (const point of points) {
    const key = keyOf(point);
    if (taken.has(key)) later.push(point);
    else {
      taken.add(key);
      first.push(point);
    }
  }
  return [...first, ...later];
}
