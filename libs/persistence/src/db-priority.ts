import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Work started inside `asBackgroundWork` (a search loop and the trials it runs in-process) asks the
 * embedded database's single connection with low priority, so a request handler's read waits for
 * at most the statement or transaction already running, never behind a queue of loop writes.
 * Postgres has a real pool; there the mark changes nothing.
 */
const background = new AsyncLocalStorage<true>();

export function asBackgroundWork<T>(fn: () => T): T {
  return background.run(true, fn);
}

export function isBackgroundWork(): boolean {
  return background.getStore() === true;
}
