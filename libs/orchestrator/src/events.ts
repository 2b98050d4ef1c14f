import { EventEmitter } from 'node:events';
import type { SearchEvent } from './types';

/** Progress events of every search driven by this process, by search id. */
export class SearchEventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open SSE stream; many clients may follow one search.
    this.emitter.setMaxListeners(0);
  }

  publish(event: SearchEvent): void {
    this.emitter.emit(event.searchId, event);
  }

  subscribe(searchId: string, listener: (e: SearchEvent) => void): () => void {
    this.emitter.on(searchId, listener);
    return () => this.emitter.off(searchId, listener);
  }
}

/**
 * Events of one search as an async iterator: `first` (a snapshot) comes first, then live events,
 * ending after 'search-completed' or when `signal` aborts. Events are buffered, so a slow reader
 * misses none.
 */
export async function* searchEventStream(
  bus: SearchEventBus,
  searchId: string,
  first: () => Promise<SearchEvent>,
  signal?: AbortSignal,
): AsyncGenerator<SearchEvent> {
  const buffer: SearchEvent[] = [];
  let wake: (() => void) | null = null;
  const unsubscribe = bus.subscribe(searchId, (e) => {
    buffer.push(e);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    const snapshot = await first();
    yield snapshot;
    if (snapshot.type === 'snapshot' && ['completed', 'cancelled', 'failed'].includes(snapshot.status)) {
      // Already over; a 'search-completed' may still be buffered when it finished just now.
      const done = buffer.find((e) => e.type === 'search-completed');
      if (done) yield done;
      return;
    }
    for (;;) {
      while (buffer.length > 0) {
        const e = buffer.shift()!;
        yield e;
        if (e.type === 'search-completed') return;
      }
      if (signal?.aborted) return;
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  }
}
