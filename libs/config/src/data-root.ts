import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { DomainError } from '@detsearch/common';

function isBelow(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Confines dataset paths to a root (the DATA_ROOT setting; default the working directory), so a
 * client cannot make the service read arbitrary files. Both the lexical path (`..`) and the real path (symlinks)
 * must stay below the root's real path; anything else is a DomainError naming the path.
 */
export class DataRoot {
  readonly root: string;
  readonly realRoot: string;

  constructor(root: string = process.cwd()) {
    this.root = resolve(root);
    try {
      this.realRoot = realpathSync.native(this.root);
    } catch {
      throw new DomainError('DATASET.ROOT_NOT_FOUND', `DATA_ROOT '${this.root}' does not exist`, 'DATA_ROOT');
    }
  }

  /**
   * Resolves `p` (relative to `base`, default the root) and returns its real path if it exists
   * below the root. Throws DATASET.OUTSIDE_ROOT when it escapes, DATASET.NOT_FOUND when missing.
   */
  confine(p: string, what: string, base: string = this.root): string {
    const abs = resolve(base, p);
    if (!isBelow(this.root, abs) && !isBelow(this.realRoot, abs))
      throw new DomainError(
        'DATASET.OUTSIDE_ROOT',
        `${what} '${p}' is outside DATA_ROOT '${this.root}'`,
        what,
      );
    let real: string;
    try {
      real = realpathSync.native(abs);
    } catch {
      throw new DomainError('DATASET.NOT_FOUND', `${what} '${abs}' does not exist`, what);
    }
    if (!isBelow(this.realRoot, real))
      throw new DomainError(
        'DATASET.OUTSIDE_ROOT',
        `${what} '${p}' resolves (through a symlink) to '${real}', outside DATA_ROOT '${this.root}'`,
        what,
      );
    return real;
  }

  /** Like confine, but returns null for a path that does not exist (still rejects escapes). */
  confineIfExists(p: string, what: string, base: string = this.root): string | null {
    try {
      return this.confine(p, what, base);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'DATASET.NOT_FOUND') return null;
      throw err;
    }
  }
}
