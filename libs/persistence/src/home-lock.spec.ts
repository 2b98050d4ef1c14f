import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireHomeLock, lockPath, readHomeLock, updateHomeLock } from './home-lock';
import { asBackgroundWork } from './db-priority';
import { PGliteExclusivePool } from './pglite-pool';
import type { PGlite } from '@electric-sql/pglite';

const homes: string[] = [];
const home = () => {
  const h = mkdtempSync(join(tmpdir(), 'detsearch-lock-'));
  homes.push(h);
  return h;
};
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const write = (h: string, info: object) => writeFileSync(lockPath(h), JSON.stringify(info));

describe('the embedded database lock (DETSEARCH_HOME/detsearch.lock)', () => {
  it('is taken with the pid, advertises the port, and is removed on release', () => {
    const h = home();
    const release = acquireHomeLock(h, 'serve');
    expect(JSON.parse(readFileSync(lockPath(h), 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'serve',
    });
    updateHomeLock(h, { port: 4321, host: '127.0.0.1' });
    expect(readHomeLock(h)).toMatchObject({ pid: process.pid, port: 4321, host: '127.0.0.1' });
    release();
    expect(existsSync(lockPath(h))).toBe(false);
  });

  it('refuses while a live process holds it, naming it', () => {
    const h = home();
    write(h, { pid: process.ppid, command: 'search', port: 3000, startedAt: '' });
    expect(() => acquireHomeLock(h)).toThrow(/in use by detsearch search \(pid \d+, port 3000\)/);
    expect(readHomeLock(h)?.pid).toBe(process.ppid);
  });

  it('takes over the lock of a dead process', () => {
    const h = home();
    write(h, { pid: deadPid(), command: 'serve', port: 3000, startedAt: '' });
    expect(readHomeLock(h)).toBeNull();
    const release = acquireHomeLock(h, 'search');
    expect(readHomeLock(h)).toMatchObject({ pid: process.pid, command: 'search' });
    release();
  });
});

describe('the PGlite pool', () => {
  it('serves foreground waiters before queued background work', async () => {
    const pool = new PGliteExclusivePool({} as PGlite);
    const order: string[] = [];
    const first = await asBackgroundWork(() => pool.connect());
    const waits = [
      asBackgroundWork(() => pool.connect()).then((c) => (order.push('loop 1'), c.release())),
      asBackgroundWork(() => pool.connect()).then((c) => (order.push('loop 2'), c.release())),
      pool.connect().then((c) => (order.push('request'), c.release())),
    ];
    first.release();
    await Promise.all(waits);
    expect(order).toEqual(['request', 'loop 1', 'loop 2']);
  });
});
