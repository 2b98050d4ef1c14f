import { describe, expect, it } from 'vitest';
import type { SearchEvent } from '@detsearch/orchestrator';
import { sseStream } from './searches.controller';

describe('sseStream', () => {
  it('aborts the orchestrator iterator as soon as the client goes away', async () => {
    let signal: AbortSignal | undefined;
    async function* events(_id: string, { signal: s }: { signal: AbortSignal }): AsyncIterable<SearchEvent> {
      signal = s;
      yield { type: 'search-completed', searchId: 'x' } as SearchEvent;
      // A search that emits nothing more: only the abort can end this wait.
      await new Promise<void>((resolve) => s.addEventListener('abort', () => resolve()));
    }
    const received: unknown[] = [];
    const sub = sseStream(events, 'x', 10_000).subscribe((e) => received.push(e.type));
    await new Promise((r) => setTimeout(r, 20));
    expect(received).toEqual(['search-completed']);
    expect(signal?.aborted).toBe(false);
    sub.unsubscribe();
    expect(signal?.aborted).toBe(true);
  });

  it('completes when the iterator ends, with heartbeats in between', async () => {
    async function* events(): AsyncIterable<SearchEvent> {
      await new Promise((r) => setTimeout(r, 60));
      yield { type: 'search-completed', searchId: 'x' } as SearchEvent;
    }
    const types: string[] = [];
    await new Promise<void>((resolve, reject) =>
      sseStream(events, 'x', 15).subscribe({
        next: (e) => types.push(String(e.type)),
        complete: resolve,
        error: reject,
      }),
    );
    expect(types.at(-1)).toBe('search-completed');
    expect(types.filter((t) => t === 'heartbeat').length).toBeGreaterThan(0);
  });
});
