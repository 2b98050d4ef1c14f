import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { DomainError } from '@detsearch/common';

/** Who holds an embedded database: written to `<home>/detsearch.lock` while it is open. */
export interface HomeLockInfo {
  pid: number;
  /** The HTTP port when the holder is `detsearch serve`: other processes talk to it there. */
  port?: number;
  /** The address it listens on (0.0.0.0 means any; clients use 127.0.0.1). */
  host?: string;
  /** What holds it: 'serve', 'search', ... (for the message a second process prints). */
  command?: string;
  startedAt: string;
}

export const LOCK_FILE = 'detsearch.lock';

export const lockPath = (home: string): string => join(resolve(home), LOCK_FILE);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live holder of `home`'s embedded database, or null (no lock, or a dead holder's). */
export function readHomeLock(home: string): HomeLockInfo | null {
  let info: HomeLockInfo;
  try {
    info = JSON.parse(readFileSync(lockPath(home), 'utf8')) as HomeLockInfo;
  } catch {
    return null;
  }
  if (!Number.isInteger(info.pid) || info.pid <= 0) return null;
  if (info.pid === process.pid) return info;
  return alive(info.pid) ? info : null;
}

/**
 * One process owns an embedded (PGlite) database: two would each cache pages and write the same
 * files, losing each other's rows or corrupting the directory. Takes `<home>/detsearch.lock`
 * (pid, command, later the port), replacing a lock whose pid is dead; throws DATABASE.LOCKED,
 * naming the holder, when a live process has it. Returns the release function (also run at exit).
 */
export function acquireHomeLock(home: string, command = process.argv[2] ?? 'node'): () => void {
  mkdirSync(resolve(home), { recursive: true });
  const path = lockPath(home);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      const info: HomeLockInfo = { pid: process.pid, command, startedAt: new Date().toISOString() };
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener('exit', release);
        try {
          const now = JSON.parse(readFileSync(path, 'utf8')) as HomeLockInfo;
          if (now.pid === process.pid) rmSync(path, { force: true });
        } catch {
          // gone already
        }
      };
      process.on('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHomeLock(home);
    if (holder && holder.pid !== process.pid) throw lockedError(home, holder);
    if (holder?.pid === process.pid)
      throw new DomainError('DATABASE.LOCKED', `${resolve(home)} is already open in this process`);
    // A stale lock (its process is gone): take it over. Renaming first means two processes that
    // both found it stale cannot both remove a fresh lock the other just created.
    const stale = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, stale);
      rmSync(stale, { force: true });
    } catch {
      // another process took it over first; loop and look again
    }
  }
  throw new DomainError('DATABASE.LOCKED', `could not take the lock ${path}`);
}

/** Adds the server's address to the lock this process holds (after it listens). */
export function updateHomeLock(home: string, patch: Pick<HomeLockInfo, 'port' | 'host'>): void {
  const path = lockPath(home);
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as HomeLockInfo;
    if (info.pid !== process.pid) return;
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...info, ...patch }));
    renameSync(tmp, path);
  } catch {
    // no lock of ours (in-memory or Postgres): nothing to advertise
  }
}

export function lockedError(home: string, holder: HomeLockInfo): DomainError {
  const who = `${holder.command ? `detsearch ${holder.command}` : 'another process'} (pid ${holder.pid}${
    holder.port ? `, port ${holder.port}` : ''
  })`;
  return new DomainError(
    'DATABASE.LOCKED',
    `the embedded database in ${resolve(home)} is in use by ${who}; wait for it to finish, stop it, or set DETSEARCH_HOME to another directory`,
  );
}
